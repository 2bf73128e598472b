"""Units directory: loading it, resolving the names documents use, group membership, reads for the pages.
The office's edits are in tracker/agencies/edits.py."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from tracker.agencies.models import (GroupMembership, Unit, UnitAlias, UnitGroup, UnitGroupMember,
                                     UnitKind)
from tracker.errors import Invalid, NotFound

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
