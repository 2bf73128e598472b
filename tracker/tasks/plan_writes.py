"""Writing a parsed plan's sections, tasks, owners, targets and annexes into the database, comparing with what
an earlier import of the plan wrote."""
from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from tracker.agencies.models import GroupMembership, Unit, UnitGroup
from tracker.agencies.services import DEPARTMENT_KINDS, group_member_ids, guess_kind
from tracker.tasks.models import (AreaTarget, Comparator, Indicator, Plan, Role, Section, Target, Task,
                                  TaskAssignment, TaskGroup, TaskLevel)


def resolve_units(session, parsed, index, result, now) -> dict[str, int]:
    """Each unit name of the document to a unit id; names the directory does not know become units."""
    unknown = [name for name in parsed.unit_names() if name not in index.unit_ids]
    if unknown:
        rows = [dict(name=name, kind=guess_kind(name), is_in_directory=False, is_active=True, created_dt=now)
                for name in unknown]
        created = session.execute(sa.insert(Unit).returning(Unit.name, Unit.id), rows).all()
        index.unit_ids.update(dict(created))
        result.new_units += unknown
    return {name: index.unit_ids[name] for name in parsed.unit_names()}


def resolve_groups(session, parsed, index, result, now) -> dict[str, int]:
    unknown = [name for name in parsed.group_names() if name not in index.group_ids]
    if unknown:
        rows = [dict(name=name, created_dt=now, note="导入计划时按原文新建",
                     membership=(GroupMembership.plan_departments if re.search(r"有关(部门|单位)", name)
                                 else GroupMembership.listed)) for name in unknown]
        created = session.execute(sa.insert(UnitGroup).returning(UnitGroup.name, UnitGroup.id), rows).all()
        index.group_ids.update(dict(created))
        result.new_groups += unknown
    return {name: index.group_ids[name] for name in parsed.group_names()}


def write_sections(session, plan, parsed, *, is_new: bool) -> dict[int, Section]:
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


def write_tasks(session, plan, parsed, sections, units, groups, result) -> list[int]:
    """Create or update every task, then write owners and new targets in bulk (a plan has thousands); return
    the ids of the plan's tasks, all active now."""
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
            if write_targets(session, plan.id, task_id, parsed_task.targets, existing[parsed_task.key].targets):
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
    return [task_id for task_id, _ in placed]


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
        # (one row per task and unit); write_group_members writes the group rows again
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
    return write_group_members(session, session.get(Plan, plan_id), None)


#: task ids per IN list when an import looks up its own tasks' owners
TASKS_PER_LOOKUP = 500


def write_group_members(session, plan, result, task_ids: list[int] | None = None) -> int:
    """Give every member of every group a task names its own row, marked with the group.

    Reads the plan's owners in three queries and writes the difference in two statements. An import passes
    the ids of the tasks it wrote and they are looked up by id, TASKS_PER_LOOKUP at a time: selected by plan, the tasks
    of a new plan in a database holding one large plan looked, to SQLite's statistics, like a whole table to
    scan (10 ms per query with 100,000 tasks, for the 25 of a new plan).
    """
    session.flush()
    if task_ids is None:
        chunks = [select(Task.id).where(Task.plan_id == plan.id, Task.is_active)]
    else:
        ordered = sorted(task_ids)
        chunks = [ordered[start:start + TASKS_PER_LOOKUP] for start in range(0, len(ordered), TASKS_PER_LOOKUP)]
    rows, task_groups = [], []
    for chunk in chunks:
        rows += session.exec(select(TaskAssignment.id, TaskAssignment.task_id, TaskAssignment.unit_id,
                                    TaskAssignment.role, TaskAssignment.via_group_id,
                                    TaskAssignment.is_carried_forward, Unit.kind)
                             .join(Unit, Unit.id == TaskAssignment.unit_id)
                             .where(TaskAssignment.task_id.in_(chunk))).all()
        task_groups += session.exec(select(TaskGroup.task_id, TaskGroup.group_id, TaskGroup.role,
                                           TaskGroup.is_carried_forward)
                                    .where(TaskGroup.task_id.in_(chunk))
                                    .order_by(TaskGroup.task_id, TaskGroup.position)).all()
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


def write_targets(session, plan_id, task_id, parsed_targets, current) -> bool:
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


def write_area_targets(session, plan, parsed, units, *, is_new: bool) -> list[str]:
    """Write 附件 1's rows; return a warning for each row that names an area again (or by another of its
    names, 土默特左旗 after 土左旗): a plan has one target per area, the first row's."""
    existing = {} if is_new else {a.unit_id: a for a in session.exec(select(AreaTarget)
                                                                      .where(AreaTarget.plan_id == plan.id))}
    wanted: dict[int, dict] = {}
    lines: dict[int, int] = {}
    repeated = []
    for position, parsed_area in enumerate(parsed.area_targets):
        unit_id = units[parsed_area.area]
        if unit_id in wanted:
            repeated.append(f"第 {parsed_area.line} 行：附件地区“{parsed_area.area}”与第 {lines[unit_id]} 行是同一地区，"
                            "此行未导入")
            continue
        lines[unit_id] = parsed_area.line
        wanted[unit_id] = dict(position=position, line=parsed_area.line, basic_pct=parsed_area.basic_pct,
                               incentive_pct=parsed_area.incentive_pct, flags=list(parsed_area.flags))
    _replace_annex_rows(session, AreaTarget, existing, wanted, lambda unit_id: dict(plan_id=plan.id, unit_id=unit_id))
    return repeated


def write_indicators(session, plan, parsed, *, is_new: bool) -> list[str]:
    """Write 附件 2's rows; return a warning for each row repeating an indicator of its sector (the first
    row's is kept: a plan has one row per sector and name)."""
    existing = {} if is_new else {(i.sector, i.name): i for i in session.exec(select(Indicator)
                                                                              .where(Indicator.plan_id == plan.id))}
    wanted: dict[tuple[str, str], dict] = {}
    repeated = []
    for position, parsed_indicator in enumerate(parsed.indicators):
        key = (parsed_indicator.sector, parsed_indicator.name)
        if key in wanted:
            repeated.append(f"第 {parsed_indicator.line} 行：附件指标“{parsed_indicator.name}”与第 {wanted[key]['line']} 行"
                            "重复，此行未导入")
            continue
        wanted[key] = dict(position=position, line=parsed_indicator.line, unit=parsed_indicator.unit,
                           baseline_year=parsed_indicator.baseline_year, baseline_value=parsed_indicator.baseline,
                           target_year=parsed_indicator.target_year, target_value=parsed_indicator.target,
                           change_text=parsed_indicator.change, raw_cells=list(parsed_indicator.raw_cells),
                           flags=list(parsed_indicator.flags))
    _replace_annex_rows(session, Indicator, existing, wanted,
                        lambda key: dict(plan_id=plan.id, sector=key[0], name=key[1]))
    return repeated


def _replace_annex_rows(session, model, existing: dict, wanted: dict, identity) -> None:
    """Make an annex's rows the `wanted` ones (key → fields): a row an earlier import wrote is updated in place
    (reports and evaluations point at it), a new key is inserted with its `identity(key)` columns, and a row
    whose key the document no longer has is deleted."""
    fresh = []
    for key, fields in wanted.items():
        if key in existing:
            for name, value in fields.items():
                setattr(existing[key], name, value)
        else:
            fresh.append({**identity(key), **fields})
    _insert(session, model, fresh)
    for key, row in existing.items():
        if key not in wanted:
            session.delete(row)
