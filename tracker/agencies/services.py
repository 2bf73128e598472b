"""Units directory: loading it, resolving the names documents use, group membership."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from tracker.accounts.permissions import can_manage_units, require
from tracker.agencies.models import (GroupMembership, Unit, UnitAlias, UnitGroup, UnitGroupMember,
                                     UnitKind)
from tracker.audit import services as audit
from tracker.errors import Conflict, Invalid, NotFound

DEPARTMENT_KINDS = (UnitKind.department, UnitKind.party_organ)
PARTY_RE = re.compile(r"^(市委|中共|中央|省委|区委|县委|旗委|自治区党委)")
#: a unit's short ASCII code (fgw, sthjj)
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


@dataclass
class DirectoryReport:
    units_created: list[str] = field(default_factory=list)
    aliases_added: list[str] = field(default_factory=list)
    groups_created: list[str] = field(default_factory=list)


def read_directory(path: Path) -> dict:
    """Read a units directory file (JSON: units with aliases and kind, named groups).

    :raises Invalid: if the file is not such a directory
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise Invalid("directory", f"单位目录文件无法读取：{exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("units"), list):
        raise Invalid("directory", "单位目录文件缺少 units 列表")
    return data


def merge_directory(session: Session, directory: dict, *, now: datetime,
                    resolver: "NameResolver | None" = None) -> DirectoryReport:
    """Add the directory's units, aliases, codes and groups that the database lacks; change nothing else.

    A unit's code is set only while it has none and no other unit holds it.

    :raises Invalid: if a code is not short lowercase ASCII, or a group names an unknown member
    """
    report = DirectoryReport()
    resolver = resolver or NameResolver.load(session)
    codes_taken = {unit.code for unit in resolver.units.values() if unit.code}
    entries = directory.get("units", [])
    for entry in entries:
        code = entry.get("code")
        if code is not None and not (isinstance(code, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", code)):
            raise Invalid("directory", f"单位“{entry['name']}”的代码“{code}”只能用小写字母、数字和连字符，最多 40 个字符")
    rows = [dict(name=entry["name"], full_name=entry.get("full_name"), kind=UnitKind(entry.get("kind", "department")),
                 created_dt=now, is_active=True, is_in_directory=True)
            for entry in entries if resolver.unit(entry["name"]) is None]
    if rows:
        # a directory has hundreds of units: one INSERT, then load them once, rather than an object each
        ids = session.execute(sa.insert(Unit).returning(Unit.id), rows).scalars().all()
        for unit in session.exec(select(Unit).where(Unit.id.in_(ids))):
            resolver.add_unit(unit)
            report.units_created.append(unit.name)
    aliases: list[dict] = []
    for entry in entries:
        unit, code = resolver.unit(entry["name"]), entry.get("code")
        if not unit.is_in_directory:
            unit.is_in_directory = True
            unit.full_name = unit.full_name or entry.get("full_name")
        if code and unit.code is None and code not in codes_taken:
            unit.code = code
            codes_taken.add(code)
        for alias in [entry.get("full_name"), *entry.get("aliases", [])]:
            if alias and alias != unit.name and resolver.unit(alias) is None:
                aliases.append(dict(unit_id=unit.id, alias=alias))
                resolver.add_alias(alias, unit)
                report.aliases_added.append(alias)
        if entry.get("parent"):
            parent = resolver.unit(entry["parent"])
            if parent is not None and unit.parent_id is None:
                unit.parent_id = parent.id
    if aliases:
        session.execute(sa.insert(UnitAlias), aliases)
    new_groups = []
    for entry in directory.get("groups", []):
        if resolver.group(entry["name"]) is None:
            group = UnitGroup(name=entry["name"], note=entry.get("note"), created_dt=now,
                              membership=GroupMembership(entry.get("membership", "listed")))
            new_groups.append((group, entry.get("members", [])))
            resolver.groups[group.name] = group
            report.groups_created.append(group.name)
    if new_groups:
        session.add_all([group for group, _ in new_groups])
        session.flush()
    memberships = []
    for group, members in new_groups:
        for member in members:
            unit = resolver.unit(member)
            if unit is None:
                raise Invalid("directory", f"单位组“{group.name}”的成员“{member}”不在单位目录中")
            memberships.append(dict(group_id=group.id, unit_id=unit.id))
    if memberships:
        session.execute(sa.insert(UnitGroupMember), memberships)
    session.flush()
    return report


def load_directory(session: Session, path: Path, *, now: datetime) -> DirectoryReport:
    """Load a units directory file into the database (idempotent)."""
    report = merge_directory(session, read_directory(path), now=now)
    session.commit()
    return report


class NameResolver:
    """Every unit and group name and alias, loaded once; lookups touch no database."""

    def __init__(self, units: dict[str, Unit], groups: dict[str, UnitGroup]):
        self.units = units
        self.groups = groups

    @classmethod
    def load(cls, session: Session) -> "NameResolver":
        units: dict[str, Unit] = {}
        for unit in session.exec(select(Unit)):
            units[unit.name] = unit
        rows = session.exec(select(UnitAlias.alias, UnitAlias.unit_id)).all()
        by_id = {u.id: u for u in units.values()}
        for alias, unit_id in rows:
            units.setdefault(alias, by_id[unit_id])
        groups = {g.name: g for g in session.exec(select(UnitGroup))}
        return cls(units, groups)

    def unit(self, name: str) -> Unit | None:
        return self.units.get(name)

    def group(self, name: str) -> UnitGroup | None:
        return self.groups.get(name)

    def add_unit(self, unit: Unit) -> None:
        self.units[unit.name] = unit

    def add_alias(self, alias: str, unit: Unit) -> None:
        self.units[alias] = unit


class NameIndex:
    """Unit and group names (and aliases) to ids, read as plain rows: what an import needs, at a tenth of
    the cost of loading every unit as an object."""

    def __init__(self, unit_ids: dict[str, int], group_ids: dict[str, int], coded: set[str]):
        self.unit_ids = unit_ids
        self.group_ids = group_ids
        self.coded = coded

    @classmethod
    def load(cls, session: Session, names: set[str] | None = None) -> "NameIndex":
        """Every name, or only `names`: a nation's directory has 60,000 units and a plan names a few hundred."""
        wanted = sorted(names) if names is not None else None
        unit_ids: dict[str, int] = {}
        coded: set[str] = set()
        aliases = select(UnitAlias.alias, UnitAlias.unit_id)
        groups = select(UnitGroup.name, UnitGroup.id)
        for chunk in _chunks(wanted):
            units = select(Unit.id, Unit.name, Unit.code)
            if chunk is not None:
                units = units.where(Unit.name.in_(chunk))
            for unit_id, name, code in session.exec(units).all():
                unit_ids[name] = unit_id
                if code:
                    coded.add(name)
        alias_ids: dict[str, int] = {}
        group_ids: dict[str, int] = {}
        for chunk in _chunks(wanted):
            alias_ids.update(session.exec(aliases if chunk is None else aliases.where(UnitAlias.alias.in_(chunk))).all())
            group_ids.update(session.exec(groups if chunk is None else groups.where(UnitGroup.name.in_(chunk))).all())
        for alias, unit_id in alias_ids.items():
            unit_ids.setdefault(alias, unit_id)
        return cls(unit_ids, group_ids, coded)

    def covers(self, directory: dict) -> bool:
        """Tell whether every unit, alias, code and group of the directory is already in the database."""
        for entry in directory.get("units", []):
            if entry["name"] not in self.unit_ids or (entry.get("code") and entry["name"] not in self.coded):
                return False
            if any(alias and alias not in self.unit_ids for alias in [entry.get("full_name"), *entry.get("aliases", [])]):
                return False
        return all(group["name"] in self.group_ids for group in directory.get("groups", []))


def _chunks(names: list[str] | None, size: int = 500):
    """The names in slices a database takes in one IN list; [None] for no restriction."""
    if names is None:
        yield None
        return
    for start in range(0, len(names), size):
        yield names[start:start + size]


def directory_names(directory: dict | None) -> set[str]:
    """Every unit name, full name, alias and group name a directory file holds."""
    names: set[str] = set()
    for entry in (directory or {}).get("units", []):
        names.update(name for name in (entry["name"], entry.get("full_name"), *entry.get("aliases", [])) if name)
    names.update(group["name"] for group in (directory or {}).get("groups", []))
    return names


def guess_kind(name: str) -> UnitKind:
    """Guess what a unit is from its name, for units the directory does not know yet."""
    if PARTY_RE.match(name):
        return UnitKind.party_organ
    if name.endswith(("开发区", "新区", "园区", "高新区", "保税区")):
        return UnitKind.zone
    if name.endswith("人民政府") or name.endswith("政府"):
        return UnitKind.government
    if re.search(r"(区|县|旗|县级市)$", name) and not name.endswith(("社区", "园区")):
        return UnitKind.area
    return UnitKind.department


def group_member_ids(session: Session, groups: list[UnitGroup], *,
                     plan_department_ids: set[int]) -> dict[int, list[int]]:
    """Return each group's member unit ids now: listed members, or the plan's departments."""
    listed = [g.id for g in groups if g.membership is GroupMembership.listed]
    members: dict[int, list[int]] = {g.id: [] for g in groups}
    if listed:
        rows = session.exec(
            select(UnitGroupMember.group_id, UnitGroupMember.unit_id)
            .join(Unit, Unit.id == UnitGroupMember.unit_id)
            .where(UnitGroupMember.group_id.in_(listed), Unit.is_active)
            .order_by(UnitGroupMember.group_id, Unit.id)).all()
        for group_id, unit_id in rows:
            members[group_id].append(unit_id)
    for group in groups:
        if group.membership is GroupMembership.plan_departments:
            members[group.id] = sorted(plan_department_ids)
    return members


# --- reads for the pages ---------------------------------------------------------------------

def list_units(session: Session, *, kind: UnitKind | None = None, search: str = "",
               page: int = 1, size: int = 50) -> tuple[list[Unit], int]:
    """Return (one page of units, total) matching the filters."""
    query = select(Unit)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    if search:
        pattern = f"%{search.replace('%', '').replace('_', '')}%"
        query = query.where(sa.or_(Unit.name.like(pattern), Unit.full_name.like(pattern),
                                   Unit.id.in_(select(UnitAlias.unit_id).where(UnitAlias.alias.like(pattern)))))
    total = session.exec(select(sa.func.count()).select_from(query.subquery())).one()
    units = session.exec(query.options(selectinload(Unit.aliases)).order_by(Unit.kind, Unit.name, Unit.id)
                         .offset((page - 1) * size).limit(size)).all()
    return list(units), total


def get_unit(session: Session, unit_id: int) -> Unit:
    """:raises NotFound: if there is no such unit"""
    unit = session.exec(select(Unit).where(Unit.id == unit_id)
                        .options(selectinload(Unit.aliases), selectinload(Unit.parent))).first()
    if unit is None:
        raise NotFound("没有这个单位")
    return unit


def list_groups(session: Session) -> list[UnitGroup]:
    return list(session.exec(select(UnitGroup).order_by(UnitGroup.name)
                             .options(selectinload(UnitGroup.members).selectinload(UnitGroupMember.unit))))


# --- the office's changes to the directory ---------------------------------------------------------

@dataclass
class UnitFields:
    """What the office may set on a unit: an explicit list, so nothing else can be assigned."""

    name: str
    kind: UnitKind
    full_name: str | None = None
    code: str | None = None
    parent_id: int | None = None


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
    audit.record(session, actor=actor, action="unit.updated", now=now, target=unit,
                 summary=f"修改单位“{unit.name}”：{'；'.join(changes) or '无改动'}")
    session.commit()
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
    audit.record(session, actor=actor, action="unit.updated", now=now, target=unit,
                 summary=f"为单位“{unit.name}”添加简称/全称“{alias}”")
    session.commit()
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
    audit.record(session, actor=actor, action="unit.updated", now=now, target=unit,
                 summary=f"删除单位“{unit.name}”的简称/全称“{entry.alias}”")
    session.commit()


def set_unit_active(session: Session, unit: Unit, *, is_active: bool, actor, now: datetime) -> Unit:
    """Deactivate a unit (it drops out of groups when rounds are opened) or reactivate it.

    :raises PermissionDenied: unless `actor` manages units
    """
    require(can_manage_units(actor))
    unit.is_active = is_active
    audit.record(session, actor=actor, action="unit.updated", now=now, target=unit,
                 summary=f"{'启用' if is_active else '停用'}单位“{unit.name}”")
    session.commit()
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
