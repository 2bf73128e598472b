"""Import a plan document: parse it, resolve its units, write everything in one transaction."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from tracker.agencies.models import GroupMembership, Unit, UnitGroup
from tracker.agencies.services import (DEPARTMENT_KINDS, NameIndex, directory_names, group_member_ids, guess_kind,
                                       merge_directory)
from tracker.accounts.permissions import can_import_plan, require
from tracker.audit import services as audit
from tracker.errors import Invalid
from tracker.tasks import parsing
from tracker.tasks.models import (AreaTarget, Comparator, Indicator, Plan, PlanImport, Role, Section,
                                  Target, Task, TaskAssignment, TaskGroup, TaskLevel)

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do), in plain data."""

    slug: str
    title: str
    plan_id: int | None = None
    is_new: bool = False
    is_unchanged: bool = False
    is_dry_run: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    added_tasks: list[str] = field(default_factory=list)
    changed_tasks: list[str] = field(default_factory=list)
    withdrawn_tasks: list[str] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)
    empty_groups: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        head = "（试运行，未写入）" if self.is_dry_run else ""
        lines = [f"计划 {self.slug}：{self.title}{head}"]
        if self.is_unchanged:
            lines.append("文件与上次导入完全相同，没有任何改动。")
            return lines
        c = self.counts
        lines.append(f"{'新建计划' if self.is_new else '更新计划'}：章节 {c.get('sections', 0)} 个，任务 {c.get('tasks', 0)} 项，"
                     f"单位 {c.get('units', 0)} 个，单位组 {c.get('groups', 0)} 个，目标 {c.get('targets', 0)} 个，"
                     f"地区目标 {c.get('area_targets', 0)} 个，指标 {c.get('indicators', 0)} 个")
        if not self.is_new:
            lines.append(f"新增任务 {len(self.added_tasks)} 项，修改 {len(self.changed_tasks)} 项，撤销 {len(self.withdrawn_tasks)} 项")
            lines += [f"  修改：{item}" for item in self.changed_tasks]
            lines += [f"  撤销：{item}" for item in self.withdrawn_tasks]
        if self.new_units:
            lines.append(f"单位目录中没有、已按原文新建的单位 {len(self.new_units)} 个：{'、'.join(self.new_units)}")
        if self.new_groups:
            lines.append(f"新建的单位组 {len(self.new_groups)} 个：{'、'.join(self.new_groups)}")
        if self.empty_groups:
            lines.append(f"尚无成员的单位组（开启调度前请在单位目录中补充）：{'、'.join(self.empty_groups)}")
        if self.warnings:
            lines.append(f"提示 {len(self.warnings)} 条：")
            lines += [f"  {w}" for w in self.warnings]
        return lines


def slug_from_filename(filename: str) -> str:
    stem = re.sub(r"\.(txt|docx|text)$", "", filename.rsplit("/", 1)[-1], flags=re.I).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:80]
    return slug or "plan"


def read_plan_document(data: bytes, filename: str, *, first_named_leads: bool = True) -> parsing.ParsedPlan:
    """Decode and parse an uploaded document.

    :raises PlanParseError: if it is not a plan, naming the line that is wrong
    """
    return parsing.parse_plan(parsing.read_document(data, filename), first_named_leads=first_named_leads)


def import_plan(session: Session, data: bytes, *, filename: str, slug: str, directory: dict | None,
                actor, now: datetime, dry_run: bool = False, first_named_leads: bool = True) -> ImportResult:
    """Import (or re-import) a plan document in one transaction; a dry run writes nothing.

    :raises PermissionDenied: unless `actor` may import plans (the office)
    :raises PlanParseError: if the file is not a plan, or names something longer than the database
        keeps (nothing is written)
    :raises Invalid: if the slug is malformed or the file name too long
    """
    require(can_import_plan(actor))
    if not SLUG_RE.match(slug):
        raise Invalid("slug", "标识只能由小写字母、数字和连字符组成，且以字母或数字开头")
    if len(filename) > _width(Plan.__table__.c.source_filename):
        raise Invalid("filename", f"文件名不能超过 {_width(Plan.__table__.c.source_filename)} 个字符，请改短后重新上传")
    parsed = read_plan_document(data, filename, first_named_leads=first_named_leads)
    if problems := _too_long(parsed):
        raise parsing.PlanParseError(problems)
    sha256 = hashlib.sha256(data).hexdigest()
    savepoint = session.begin_nested()
    try:
        result = _apply(session, parsed, sha256=sha256, filename=filename, slug=slug,
                        directory=directory, actor=actor, now=now)
        session.flush()
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
        result.is_dry_run = True
        result.plan_id = None if result.is_new else result.plan_id
        return result
    savepoint.commit()
    session.commit()
    return result


def _width(column) -> int:
    """The characters a column keeps (DecimalText keeps a number as text in a String)."""
    return getattr(column.type, "impl", column.type).length


def _too_long(parsed: parsing.ParsedPlan) -> list[tuple[int | None, str]]:
    """Every label, name or figure of the document longer than its column, with its line.

    SQLite would keep it, PostgreSQL refuses the whole import with an error the user cannot read.
    """
    problems: list[tuple[int | None, str]] = []

    def check(line, text, column, what) -> None:
        if text is not None and len(text) > _width(column):
            shown = text if len(text) <= 30 else text[:30] + "…"
            problems.append((line, f"{what}“{shown}”过长（{len(text)} 个字符，最多 {_width(column)} 个），"
                                   "无法保存，请核对原文"))

    def check_number(line, value, what) -> None:
        check(line, None if value is None else format(value, "f"), Target.__table__.c.value, what)

    for section in parsed.sections:
        check(section.line, section.label, Section.__table__.c.label, "章节编号")
    for task in parsed.tasks:
        check(task.line, task.label, Task.__table__.c.label, "条款编号")
        check(task.line, task.key, Task.__table__.c.key, "条款编号")
        for owner in task.owners:
            check(owner.line or task.line, owner.name,
                  (UnitGroup if owner.is_group else Unit).__table__.c.name, "单位组名称" if owner.is_group else "单位名称")
        if parsed.lead_rule_text and any(parsed.lead_rule_text in raw for raw in task.annotations):
            check(task.line, parsed.lead_rule_text, Plan.__table__.c.lead_rule_text, "牵头单位说明")
    for target in parsed.targets + [t for task in parsed.tasks for t in task.targets]:
        check(target.line, target.measure, Target.__table__.c.measure, "目标名称")
        check(target.line, target.unit, Target.__table__.c.unit, "目标计量单位")
        check_number(target.line, target.value, "目标值")
    for area in parsed.area_targets:
        check(area.line, area.area, Unit.__table__.c.name, "附件地区名称")
        check_number(area.line, area.basic_pct, "基本目标")
        check_number(area.line, area.incentive_pct, "激励目标")
    for indicator in parsed.indicators:
        check(indicator.line, indicator.sector, Indicator.__table__.c.sector, "附件指标所属领域")
        check(indicator.line, indicator.name, Indicator.__table__.c.name, "附件指标名称")
        check(indicator.line, indicator.unit, Indicator.__table__.c.unit, "附件指标计量单位")
        check(indicator.line, indicator.change, Indicator.__table__.c.change_text, "附件指标变化幅度")
        check_number(indicator.line, indicator.baseline, "附件指标基期值")
        check_number(indicator.line, indicator.target, "附件指标目标值")
    return list(dict.fromkeys(problems))


#: up to this many units the import reads the whole directory's names rather than looking up its own
WHOLE_DIRECTORY_UNITS = 2000


def _apply(session: Session, parsed: parsing.ParsedPlan, *, sha256: str, filename: str, slug: str,
           directory: dict | None, actor, now: datetime) -> ImportResult:
    # a city's directory is read whole (one cheap query); a province's or a nation's only for the names wanted
    large = session.exec(select(sa.func.count()).select_from(Unit)).one() > WHOLE_DIRECTORY_UNITS
    names = {*parsed.unit_names(), *parsed.group_names()} | directory_names(directory) if large else None
    index = NameIndex.load(session, names)
    if directory and not index.covers(directory):
        merge_directory(session, directory, now=now)
        index = NameIndex.load(session, names)
    plan = session.exec(select(Plan).where(Plan.slug == slug)).first()
    result = ImportResult(slug=slug, title=parsed.title, is_new=plan is None)
    if plan is not None and plan.source_sha256 == sha256:
        result.plan_id, result.is_unchanged = plan.id, True
        return result
    if plan is None:
        plan = Plan(slug=slug, title=parsed.title, source_sha256=sha256, imported_dt=now, updated_dt=now)
        session.add(plan)
    plan.title, plan.doc_number = parsed.title, parsed.doc_number
    plan.start_year, plan.end_year = parsed.start_year, parsed.end_year
    plan.lead_rule_text, plan.source_filename = parsed.lead_rule_text, filename
    plan.source_sha256, plan.updated_dt = sha256, now
    session.flush()
    result.plan_id = plan.id

    units = _resolve_units(session, parsed, index, result, now)
    groups = _resolve_groups(session, parsed, index, result, now)
    # a plan imported for the first time has no rows to compare with: its writers skip reading them
    is_new = result.is_new
    sections = _write_sections(session, plan, parsed, is_new=is_new)
    _write_tasks(session, plan, parsed, sections, units, groups, result)
    _write_group_members(session, plan, result)
    _write_targets(session, plan.id, None, parsed.targets, [] if is_new else session.exec(
        select(Target).where(Target.plan_id == plan.id, Target.task_id.is_(None)).order_by(Target.position)).all())
    repeated_areas = _write_area_targets(session, plan, parsed, units, is_new=is_new)
    repeated_indicators = _write_indicators(session, plan, parsed, is_new=is_new)
    result.warnings = [str(w) for w in parsed.warnings] + repeated_areas + repeated_indicators
    result.counts = {
        "sections": len(parsed.sections), "tasks": len(parsed.tasks), "units": len(parsed.unit_names()),
        "groups": len(parsed.group_names()),
        "targets": len(parsed.targets) + sum(len(t.targets) for t in parsed.tasks),
        "area_targets": len(parsed.area_targets), "indicators": len(parsed.indicators)}
    session.add(PlanImport(plan_id=plan.id, imported_dt=now, filename=filename, sha256=sha256,
                           actor_id=getattr(actor, "id", None), report=_report(result)))
    audit.record(session, actor=actor, action="plan.imported", now=now, target=plan,
                 summary=f"{'导入' if result.is_new else '重新导入'}计划“{plan.title}”（{filename}）")
    return result


def _report(result: ImportResult) -> dict:
    return {key: getattr(result, key) for key in (
        "is_new", "counts", "added_tasks", "changed_tasks", "withdrawn_tasks", "new_units",
        "new_groups", "empty_groups", "warnings")}


def _resolve_units(session, parsed, index, result, now) -> dict[str, int]:
    """Each unit name of the document to a unit id; names the directory does not know become units."""
    unknown = [name for name in parsed.unit_names() if name not in index.unit_ids]
    if unknown:
        rows = [dict(name=name, kind=guess_kind(name), is_in_directory=False, is_active=True, created_dt=now)
                for name in unknown]
        created = session.execute(sa.insert(Unit).returning(Unit.name, Unit.id), rows).all()
        index.unit_ids.update(dict(created))
        result.new_units += unknown
    return {name: index.unit_ids[name] for name in parsed.unit_names()}


def _resolve_groups(session, parsed, index, result, now) -> dict[str, int]:
    unknown = [name for name in parsed.group_names() if name not in index.group_ids]
    if unknown:
        rows = [dict(name=name, created_dt=now, note="导入计划时按原文新建",
                     membership=(GroupMembership.plan_departments if re.search(r"有关(部门|单位)", name)
                                 else GroupMembership.listed)) for name in unknown]
        created = session.execute(sa.insert(UnitGroup).returning(UnitGroup.name, UnitGroup.id), rows).all()
        index.group_ids.update(dict(created))
        result.new_groups += unknown
    return {name: index.group_ids[name] for name in parsed.group_names()}


def _write_sections(session, plan, parsed, *, is_new: bool) -> dict[int, Section]:
    existing = {} if is_new else {s.number: s for s in session.exec(select(Section).where(Section.plan_id == plan.id))}
    for parsed_section in parsed.sections:
        section = existing.get(parsed_section.number)
        if section is None:
            section = Section(plan_id=plan.id, number=parsed_section.number, label="", title="", line=0)
            session.add(section)
            existing[parsed_section.number] = section
        section.label, section.title = parsed_section.label, parsed_section.title
        section.line = parsed_section.line
    session.flush()
    return existing


def _write_tasks(session, plan, parsed, sections, units, groups, result) -> None:
    """Create or update every task, then write owners and new targets in bulk (a plan has thousands)."""
    existing = {} if result.is_new else {t.key: t for t in session.exec(
        select(Task).where(Task.plan_id == plan.id)
        .options(selectinload(Task.assignments), selectinload(Task.groups), selectinload(Task.targets)))}
    changes: dict[str, list[str]] = {}
    fresh: list[dict] = []
    for position, parsed_task in enumerate(parsed.tasks):
        task = existing.get(parsed_task.key)
        section = sections.get(parsed_task.section_number) if parsed_task.section_number else None
        fields = dict(level=TaskLevel(parsed_task.level), section_number=parsed_task.section_number,
                      clause_number=parsed_task.clause_number, number=parsed_task.number,
                      label=parsed_task.label, title=parsed_task.title, text=parsed_task.text,
                      line=parsed_task.line, position=position, is_active=True,
                      section_id=section.id if section else None)
        if task is None:
            fresh.append(dict(plan_id=plan.id, key=parsed_task.key, **{**fields, "level": fields["level"].value}))
            if not result.is_new:
                result.added_tasks.append(f"{parsed_task.key} {parsed_task.title}")
        else:
            changes[parsed_task.key] = [FIELD_NAMES.get(name, name) for name, value in fields.items()
                                        if name not in ("line", "position") and getattr(task, name) != value]
            for name, value in fields.items():
                setattr(task, name, value)
    # new tasks in one INSERT … RETURNING: a plan may have thousands, and objects cost more than rows
    ids = dict(session.execute(sa.insert(Task).returning(Task.key, Task.id), fresh).all()) if fresh else {}
    placed = [(existing[p.key].id if p.key in existing else ids[p.key], p) for p in parsed.tasks]
    seen = {parsed_task.key for parsed_task in parsed.tasks}
    for key, task in existing.items():
        if key not in seen and task.is_active:
            task.is_active = False
            result.withdrawn_tasks.append(f"{key} {task.title}")
    session.flush()
    owners_changed = _write_owners(session, placed, units, groups, existing)
    new_targets = []
    for task_id, parsed_task in placed:
        if parsed_task.key in existing:
            if _write_targets(session, plan.id, task_id, parsed_task.targets, existing[parsed_task.key].targets):
                changes[parsed_task.key].append("目标")
        else:
            new_targets += [dict(plan_id=plan.id, task_id=task_id, position=position, **_target_fields(target))
                            for position, target in enumerate(parsed_task.targets)]
    _insert(session, Target, new_targets)
    for task_id, parsed_task in placed:
        if parsed_task.key in existing:
            described = changes[parsed_task.key] + (["责任单位"] if task_id in owners_changed else [])
            if described:
                result.changed_tasks.append(f"{parsed_task.key} {parsed_task.title}"
                                            f"（{'、'.join(dict.fromkeys(described))}）")
    session.flush()


FIELD_NAMES = {"title": "标题", "text": "条款文字", "number": "序号", "label": "序号", "level": "层级",
               "section_number": "所属部分", "section_id": "所属部分", "clause_number": "所属条款",
               "is_active": "恢复"}


def _insert(session, model, rows: list[dict]) -> None:
    if rows:
        session.execute(sa.insert(model.__table__), rows)


def _write_owners(session, placed, units, groups, existing) -> set[int]:
    """Replace the named units and groups of the tasks whose document text changed them; return their ids
    (among tasks that existed before)."""
    replace_ids, named_rows, group_rows, changed = [], [], [], set()
    for task_id, parsed_task in placed:
        named = _one_row_per_unit([(units[o.name], Role(o.role), o.is_carried_forward)
                                   for o in parsed_task.owners if not o.is_group])
        grouped = [(groups[o.name], Role(o.role), o.is_carried_forward) for o in parsed_task.owners if o.is_group]
        before = existing.get(parsed_task.key)
        if before is not None:
            have_named = [(a.unit_id, a.role, a.is_carried_forward) for a in before.assignments if a.via_group_id is None]
            have_groups = [(g.group_id, g.role, g.is_carried_forward) for g in before.groups]
            if named == have_named and grouped == have_groups:
                continue
            replace_ids.append(task_id)
            if have_named or have_groups:
                changed.add(task_id)
        named_rows += [dict(task_id=task_id, unit_id=unit_id, role=role.value, is_carried_forward=carried,
                            position=position, via_group_id=None)
                       for position, (unit_id, role, carried) in enumerate(named)]
        group_rows += [dict(task_id=task_id, group_id=group_id, role=role.value, is_carried_forward=carried,
                            position=position)
                       for position, (group_id, role, carried) in enumerate(grouped)]
    if replace_ids:
        # the rows a group gave go too: a unit named now may have carried the task through a group before
        # (one row per task and unit); _write_group_members writes the group rows again
        session.execute(sa.delete(TaskAssignment.__table__).where(TaskAssignment.task_id.in_(replace_ids)))
        session.execute(sa.delete(TaskGroup.__table__).where(TaskGroup.task_id.in_(replace_ids)))
    _insert(session, TaskAssignment, named_rows)
    _insert(session, TaskGroup, group_rows)
    return changed


def _one_row_per_unit(named: list[tuple[int, Role, bool]]) -> list[tuple[int, Role, bool]]:
    """Two names of one unit in a task (市发展改革委 and its alias 市发改委) are one owner: it keeps its first
    place, and leads if either name does."""
    merged: dict[int, tuple[int, Role, bool]] = {}
    for unit_id, role, carried in named:
        if unit_id not in merged:
            merged[unit_id] = (unit_id, role, carried)
        elif role is Role.lead:
            merged[unit_id] = (unit_id, role, merged[unit_id][2])
    return list(merged.values())


def refresh_group_assignments(session: Session, plan_id: int) -> int:
    """Recompute the units that carry tasks through groups; return how many rows changed."""
    return _write_group_members(session, session.get(Plan, plan_id), None)


def _write_group_members(session, plan, result) -> int:
    """Give every member of every group a task names its own row, marked with the group.

    Reads the plan's owners in three queries and writes the difference in two statements.
    """
    session.flush()
    active = select(Task.id).where(Task.plan_id == plan.id, Task.is_active)
    rows = session.exec(select(TaskAssignment.id, TaskAssignment.task_id, TaskAssignment.unit_id, TaskAssignment.role,
                               TaskAssignment.via_group_id, TaskAssignment.is_carried_forward, Unit.kind)
                        .join(Unit, Unit.id == TaskAssignment.unit_id)
                        .where(TaskAssignment.task_id.in_(active))).all()
    task_groups = session.exec(select(TaskGroup.task_id, TaskGroup.group_id, TaskGroup.role,
                                      TaskGroup.is_carried_forward)
                               .where(TaskGroup.task_id.in_(active)).order_by(TaskGroup.task_id, TaskGroup.position)).all()
    named: dict[int, set[int]] = {}
    have: dict[tuple[int, int], tuple] = {}
    departments = set()
    for row_id, task_id, unit_id, role, via, carried, kind in rows:
        if via is None:
            named.setdefault(task_id, set()).add(unit_id)
            if kind in DEPARTMENT_KINDS:
                departments.add(unit_id)
        else:
            have[(task_id, unit_id)] = (row_id, role, via, carried)
    group_ids = {group_id for _, group_id, _, _ in task_groups}
    all_groups = list(session.exec(select(UnitGroup).where(UnitGroup.id.in_(group_ids or {-1}))))
    members = group_member_ids(session, all_groups, plan_department_ids=departments)
    if result is not None:
        result.empty_groups = [g.name for g in all_groups if not members[g.id]]
    wanted: dict[tuple[int, int], tuple] = {}
    for task_id, group_id, role, carried in task_groups:
        for unit_id in members[group_id]:
            if unit_id not in named.get(task_id, ()) and (task_id, unit_id) not in wanted:
                wanted[(task_id, unit_id)] = (role, group_id, carried)
    stale = [have[key][0] for key in have if key not in wanted or have[key][1:] != wanted[key]]
    positions: dict[int, int] = {task_id: len(units) for task_id, units in named.items()}
    fresh = []
    for (task_id, unit_id), (role, group_id, carried) in wanted.items():
        position = positions.get(task_id, 0)
        positions[task_id] = position + 1
        if have.get((task_id, unit_id), (None,))[1:] != (role, group_id, carried):
            fresh.append(dict(task_id=task_id, unit_id=unit_id, role=role.value, via_group_id=group_id,
                              is_carried_forward=carried, position=position))
    for start in range(0, len(stale), 500):
        session.execute(sa.delete(TaskAssignment.__table__).where(TaskAssignment.id.in_(stale[start:start + 500])))
    _insert(session, TaskAssignment, fresh)
    return len(stale) + len(fresh)


def _target_fields(parsed_target) -> dict:
    return dict(measure=parsed_target.measure, comparator=Comparator.from_symbol(parsed_target.comparator),
                value=parsed_target.value, unit=parsed_target.unit,
                deadline_year=parsed_target.deadline_year, text=parsed_target.text,
                line=parsed_target.line or 0)


def _write_targets(session, plan_id, task_id, parsed_targets, current) -> bool:
    """Update targets in place by position, so reports against them keep their target."""
    changed = False
    current = sorted(current, key=lambda t: t.position)
    for position, parsed_target in enumerate(parsed_targets):
        fields = _target_fields(parsed_target)
        if position < len(current):
            target = current[position]
            if any(getattr(target, k) != v for k, v in fields.items() if k != "line"):
                changed = True
            for key, value in fields.items():
                setattr(target, key, value)
        else:
            session.add(Target(plan_id=plan_id, task_id=task_id, position=position, **fields))
            changed = True
    for target in current[len(parsed_targets):]:
        session.delete(target)
        changed = True
    return changed


def _write_area_targets(session, plan, parsed, units, *, is_new: bool) -> list[str]:
    """Write 附件 1's rows; return a warning for each row that names an area again (or by another of its
    names, 土默特左旗 after 土左旗): a plan has one target per area, the first row's."""
    existing = {} if is_new else {a.unit_id: a for a in session.exec(select(AreaTarget)
                                                                      .where(AreaTarget.plan_id == plan.id))}
    keep: dict[int, int] = {}
    fresh, repeated = [], []
    for position, parsed_area in enumerate(parsed.area_targets):
        unit_id = units[parsed_area.area]
        if unit_id in keep:
            repeated.append(f"第 {parsed_area.line} 行：附件地区“{parsed_area.area}”与第 {keep[unit_id]} 行是同一地区，"
                            "此行未导入")
            continue
        keep[unit_id] = parsed_area.line
        fields = dict(position=position, line=parsed_area.line, basic_pct=parsed_area.basic_pct,
                      incentive_pct=parsed_area.incentive_pct, flags=list(parsed_area.flags))
        if unit_id in existing:
            for name, value in fields.items():
                setattr(existing[unit_id], name, value)
        else:
            fresh.append(dict(plan_id=plan.id, unit_id=unit_id, **fields))
    _insert(session, AreaTarget, fresh)
    for unit_id, area in existing.items():
        if unit_id not in keep:
            session.delete(area)
    return repeated


def _write_indicators(session, plan, parsed, *, is_new: bool) -> list[str]:
    """Write 附件 2's rows; return a warning for each row repeating an indicator of its sector (the first
    row's is kept: a plan has one row per sector and name)."""
    existing = {} if is_new else {(i.sector, i.name): i for i in session.exec(select(Indicator)
                                                                              .where(Indicator.plan_id == plan.id))}
    keep: dict[tuple[str, str], int] = {}
    fresh, repeated = [], []
    for position, parsed_indicator in enumerate(parsed.indicators):
        key = (parsed_indicator.sector, parsed_indicator.name)
        if key in keep:
            repeated.append(f"第 {parsed_indicator.line} 行：附件指标“{parsed_indicator.name}”与第 {keep[key]} 行重复，"
                            "此行未导入")
            continue
        keep[key] = parsed_indicator.line
        fields = dict(position=position, line=parsed_indicator.line, unit=parsed_indicator.unit,
                      baseline_year=parsed_indicator.baseline_year, baseline_value=parsed_indicator.baseline,
                      target_year=parsed_indicator.target_year, target_value=parsed_indicator.target,
                      change_text=parsed_indicator.change, raw_cells=list(parsed_indicator.raw_cells),
                      flags=list(parsed_indicator.flags))
        if key in existing:
            for name, value in fields.items():
                setattr(existing[key], name, value)
        else:
            fresh.append(dict(plan_id=plan.id, sector=key[0], name=key[1], **fields))
    _insert(session, Indicator, fresh)
    for key, indicator in existing.items():
        if key not in keep:
            session.delete(indicator)
    return repeated
