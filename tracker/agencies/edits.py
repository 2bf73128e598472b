"""The office's changes to the units directory in the browser: units, aliases, activity, group members."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from tracker.accounts.permissions import can_manage_units, require
from tracker.agencies.models import GroupMembership, Unit, UnitAlias, UnitGroup, UnitGroupMember, UnitKind
from tracker.agencies.services import CODE_RE, CONTROL_RE
from tracker.audit import services as audit
from tracker.errors import Conflict, Invalid, NotFound

@dataclass
class UnitFields:
    """What the office may set on a unit: an explicit list, so nothing else can be assigned."""

    name: str
    kind: UnitKind
    full_name: str | None = None
    code: str | None = None
    parent_id: int | None = None


def commit_unit_change(session: Session, unit: Unit, summary: str, *, actor, now: datetime) -> None:
    """Log a change to a unit's entry in the directory (its aliases and contacts included) and commit it: every
    edit of the directory ends so, under one audit action the unit's history reads."""
    audit.record(session, actor=actor, action="unit.updated", now=now, target=unit, summary=summary)
    session.commit()


def unit_choices(session: Session) -> list[tuple[int, str, bool]]:
    """Return (id, name, is_active) of every unit, for selects and checkbox lists, in one query."""
    rows = session.exec(select(Unit.id, Unit.name, Unit.is_active).order_by(Unit.kind, Unit.name, Unit.id)).all()
    return [(unit_id, name, is_active) for unit_id, name, is_active in rows]


def unit_id_named(session: Session, name: str) -> int | None:
    """The unit whose name, full name or alias is exactly `name`, if any."""
    return session.exec(select(Unit.id).where(sa.or_(
        Unit.name == name, Unit.full_name == name,
        Unit.id.in_(select(UnitAlias.unit_id).where(UnitAlias.alias == name)))).order_by(Unit.id).limit(1)).first()


def _owner_of_name(session: Session, name: str) -> tuple[int, str] | None:
    """Return (unit id, unit name) of the unit that already uses `name` as its name or an alias."""
    row = session.exec(select(Unit.id, Unit.name).where(Unit.name == name)).first()
    if row is None:
        row = session.exec(select(Unit.id, Unit.name).join(UnitAlias, UnitAlias.unit_id == Unit.id)
                           .where(UnitAlias.alias == name)).first()
    return None if row is None else (row[0], row[1])


def _clean_unit_fields(fields: UnitFields) -> UnitFields:
    return UnitFields(name=(fields.name or "").strip(), kind=fields.kind,
                      full_name=(fields.full_name or "").strip() or None,
                      code=(fields.code or "").strip().lower() or None, parent_id=fields.parent_id)


def _validate_unit(session: Session, fields: UnitFields, unit: Unit | None) -> None:
    own_id = unit.id if unit is not None else None
    if not fields.name:
        raise Invalid("name", "请填写单位名称")
    for field_name, text in (("name", fields.name), ("full_name", fields.full_name or "")):
        if CONTROL_RE.search(text):
            # a name goes into email subjects, file names and PDFs: no line breaks or other control characters
            raise Invalid(field_name, "名称中不能含有换行或控制字符")
    if len(fields.name) > 120:
        raise Invalid("name", "单位名称不能超过 120 个字符")
    owner = _owner_of_name(session, fields.name)
    if owner is not None and owner[0] != own_id:
        raise Invalid("name", f"“{fields.name}”已是单位“{owner[1]}”的名称或简称，不能重复")
    if fields.full_name:
        if len(fields.full_name) > 200:
            raise Invalid("full_name", "全称不能超过 200 个字符")
        owner = _owner_of_name(session, fields.full_name)
        if owner is not None and owner[0] != own_id:
            raise Invalid("full_name", f"“{fields.full_name}”已是单位“{owner[1]}”的名称或简称，不能重复")
    if not isinstance(fields.kind, UnitKind):
        raise Invalid("kind", "请选择单位类别")
    if fields.code:
        if not CODE_RE.match(fields.code):
            raise Invalid("code", "代码只能由小写字母、数字、下划线和连字符组成，最多 40 个字符")
        taken = session.exec(select(Unit.name).where(Unit.code == fields.code, Unit.id != (own_id or 0))).first()
        if taken is not None:
            raise Invalid("code", f"代码“{fields.code}”已被单位“{taken}”使用")
    if fields.parent_id is not None:
        parents = dict(session.exec(select(Unit.id, Unit.parent_id)).all())
        if fields.parent_id not in parents:
            raise Invalid("parent_id", "所选的上级单位不存在")
        seen, current = set(), fields.parent_id
        while current is not None and current not in seen:
            if current == own_id:
                raise Invalid("parent_id", "上级单位不能是本单位或本单位的下级单位")
            seen.add(current)
            current = parents.get(current)


def create_unit(session: Session, *, fields: UnitFields, actor, now: datetime) -> Unit:
    """Add a unit to the directory; its full name, if given, also becomes an alias (as in the directory file).

    :raises PermissionDenied: unless `actor` manages units
    :raises Invalid: for a blank or taken name or full name, a malformed or taken code, a bad parent
    """
    require(can_manage_units(actor))
    fields = _clean_unit_fields(fields)
    _validate_unit(session, fields, None)
    unit = Unit(name=fields.name, full_name=fields.full_name, kind=fields.kind, code=fields.code,
                parent_id=fields.parent_id, is_in_directory=True, created_dt=now)
    session.add(unit)
    session.flush()
    if fields.full_name and fields.full_name != fields.name:
        session.add(UnitAlias(unit_id=unit.id, alias=fields.full_name))
    audit.record(session, actor=actor, action="unit.created", now=now, target=unit,
                 summary=f"新建单位“{unit.name}”（{unit.kind.label}）")
    session.commit()
    return unit


def update_unit(session: Session, unit: Unit, *, fields: UnitFields, actor, now: datetime) -> Unit:
    """Change a unit's name, full name, kind, code and parent.

    A renamed unit keeps its old name as an alias, and a new full name becomes one, so documents
    written either way still resolve to it (the office may remove such aliases afterwards).

    :raises PermissionDenied: unless `actor` manages units
    :raises Invalid: for a blank or taken name or full name, a malformed or taken code, a parent that
        is the unit itself or one of its own subordinates
    """
    require(can_manage_units(actor))
    fields = _clean_unit_fields(fields)
    _validate_unit(session, fields, unit)
    aliases = {a.alias: a for a in session.exec(select(UnitAlias).where(UnitAlias.unit_id == unit.id))}
    keep_as_alias = []
    changes = []
    if fields.name != unit.name:
        changes.append(f"名称“{unit.name}”改为“{fields.name}”")
        if fields.name in aliases:
            # the new name was one of its aliases: it is now the name, no longer an alias
            session.delete(aliases.pop(fields.name))
            session.flush()
        keep_as_alias.append(unit.name)
    if fields.full_name != unit.full_name:
        changes.append(f"全称改为“{fields.full_name or '（无）'}”")
        if fields.full_name:
            keep_as_alias.append(fields.full_name)
    for alias in dict.fromkeys(keep_as_alias):
        if alias != fields.name and alias not in aliases:
            session.add(UnitAlias(unit_id=unit.id, alias=alias))
    if fields.kind is not unit.kind:
        changes.append(f"类别改为“{fields.kind.label}”")
    if fields.code != unit.code:
        changes.append(f"代码改为“{fields.code or '（无）'}”")
    if fields.parent_id != unit.parent_id:
        changes.append("上级单位已更改")
    unit.name, unit.full_name, unit.kind = fields.name, fields.full_name, fields.kind
    unit.code, unit.parent_id = fields.code, fields.parent_id
    commit_unit_change(session, unit, f"修改单位“{unit.name}”：{'；'.join(changes) or '无改动'}",
                       actor=actor, now=now)
    return unit


def add_alias(session: Session, unit: Unit, *, alias: str, actor, now: datetime) -> UnitAlias:
    """Record another way documents write a unit's name (简称 or 全称).

    :raises PermissionDenied: unless `actor` manages units
    :raises Invalid: if the alias is blank, too long, or already any unit's name or alias
    """
    require(can_manage_units(actor))
    alias = (alias or "").strip()
    if not alias:
        raise Invalid("alias", "请填写简称或全称")
    if CONTROL_RE.search(alias):
        raise Invalid("alias", "简称或全称中不能含有换行或控制字符")
    if len(alias) > 200:
        raise Invalid("alias", "简称或全称不能超过 200 个字符")
    owner = _owner_of_name(session, alias)
    if owner is not None:
        if owner[0] == unit.id:
            raise Invalid("alias", f"“{alias}”已是本单位的名称或简称")
        raise Invalid("alias", f"“{alias}”已是单位“{owner[1]}”的名称或简称，不能重复")
    entry = UnitAlias(unit_id=unit.id, alias=alias)
    session.add(entry)
    commit_unit_change(session, unit, f"为单位“{unit.name}”添加简称/全称“{alias}”",
                       actor=actor, now=now)
    return entry


def remove_alias(session: Session, unit: Unit, *, alias_id: int, actor, now: datetime) -> None:
    """Forget one alias of a unit.

    :raises PermissionDenied: unless `actor` manages units
    :raises NotFound: if the unit has no such alias
    """
    require(can_manage_units(actor))
    entry = session.exec(select(UnitAlias).where(UnitAlias.id == alias_id, UnitAlias.unit_id == unit.id)).first()
    if entry is None:
        raise NotFound("该单位没有这个简称")
    session.delete(entry)
    commit_unit_change(session, unit, f"删除单位“{unit.name}”的简称/全称“{entry.alias}”",
                       actor=actor, now=now)


def set_unit_active(session: Session, unit: Unit, *, is_active: bool, actor, now: datetime) -> Unit:
    """Deactivate a unit (it drops out of groups when rounds are opened) or reactivate it.

    :raises PermissionDenied: unless `actor` manages units
    """
    require(can_manage_units(actor))
    unit.is_active = is_active
    commit_unit_change(session, unit, f"{'启用' if is_active else '停用'}单位“{unit.name}”",
                       actor=actor, now=now)
    return unit


def get_group(session: Session, group_id: int) -> UnitGroup:
    """:raises NotFound: if there is no such group"""
    group = session.exec(select(UnitGroup).where(UnitGroup.id == group_id)
                         .options(selectinload(UnitGroup.members))).first()
    if group is None:
        raise NotFound("没有这个单位组")
    return group


def set_group_members(session: Session, group: UnitGroup, *, unit_ids: list[int | None], actor,
                      now: datetime) -> UnitGroup:
    """Make a listed group's members exactly `unit_ids`.

    :raises PermissionDenied: unless `actor` manages units
    :raises Conflict: if the group's members are computed (the plan's departments), not listed
    :raises Invalid: if an id is not a unit
    """
    require(can_manage_units(actor))
    if group.membership is not GroupMembership.listed:
        raise Conflict(f"“{group.name}”的成员在开启调度时按计划自动确定，不能手工编辑")
    wanted = set(unit_ids)
    known = set(session.exec(select(Unit.id).where(Unit.id.in_([i for i in wanted if i is not None]))).all())
    if None in wanted or wanted - known:
        raise Invalid("unit_ids", "所选单位中有不存在的单位，请刷新页面后重试")
    current = {member.unit_id: member for member in group.members}
    added, removed = sorted(wanted - current.keys()), sorted(current.keys() - wanted)
    for unit_id in removed:
        group.members.remove(current[unit_id])
    for unit_id in added:
        group.members.append(UnitGroupMember(group_id=group.id, unit_id=unit_id))
    names = dict(session.exec(select(Unit.id, Unit.name).where(Unit.id.in_(added + removed))).all()) \
        if added or removed else {}
    audit.record(session, actor=actor, action="group.updated", now=now, target=group,
                 summary=f"修改单位组“{group.name}”的成员：增加 {len(added)} 个，移除 {len(removed)} 个",
                 details={"added": [names[i] for i in added], "removed": [names[i] for i in removed]})
    session.commit()
    return group
