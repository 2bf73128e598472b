"""Reads of the imported plan, each in a constant number of queries, and the JSON export."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import Session, func, select

from tracker.agencies.models import Unit, UnitGroup
from tracker.agencies.services import DEPARTMENT_KINDS, group_member_ids
from tracker.db import fetch_page
from tracker.errors import NotFound
from tracker.tasks.models import (AreaTarget, Indicator, Plan, PlanImport, Role, Section, Target,
                                  Task, TaskAssignment, TaskGroup)


def list_plans(session: Session) -> list[tuple[Plan, int]]:
    counts = (select(Task.plan_id, func.count().label("n")).where(Task.is_active)
              .group_by(Task.plan_id).subquery())
    rows = session.exec(select(Plan, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.plan_id == Plan.id)
                        .order_by(Plan.updated_dt.desc(), Plan.id.desc())).all()
    return [(plan, count) for plan, count in rows]


def get_plan(session: Session, slug: str) -> Plan:
    """:raises NotFound: if no plan has this slug"""
    plan = session.exec(select(Plan).where(Plan.slug == slug)).first()
    if plan is None:
        raise NotFound("没有这个计划")
    return plan


def default_plan(session: Session) -> Plan | None:
    return session.exec(select(Plan).order_by(Plan.updated_dt.desc(), Plan.id.desc()).limit(1)).first()


@dataclass
class PlanOverview:
    plan: Plan
    sections: list[tuple[Section, int]]
    unsectioned_task_count: int
    task_count: int
    unit_count: int
    target_count: int
    headline_targets: list[Target]
    last_import: PlanImport | None


def plan_overview(session: Session, plan: Plan) -> PlanOverview:
    per_section = dict(session.exec(
        select(Task.section_id, func.count()).where(Task.plan_id == plan.id, Task.is_active)
        .group_by(Task.section_id)).all())
    sections = plan_sections(session, plan)
    unit_count = session.exec(
        select(func.count(sa.distinct(TaskAssignment.unit_id))).join(Task, Task.id == TaskAssignment.task_id)
        .where(Task.plan_id == plan.id, Task.is_active)).one()
    target_count = session.exec(select(func.count()).select_from(Target).where(
        Target.plan_id == plan.id, Target.task_id.is_not(None))).one()
    headline = session.exec(select(Target).where(Target.plan_id == plan.id, Target.task_id.is_(None))
                            .order_by(Target.position)).all()
    last_import = session.exec(select(PlanImport).where(PlanImport.plan_id == plan.id)
                               .order_by(PlanImport.id.desc()).limit(1)).first()
    return PlanOverview(plan=plan, sections=[(s, per_section.get(s.id, 0)) for s in sections],
                        unsectioned_task_count=per_section.get(None, 0),
                        task_count=sum(per_section.values()), unit_count=unit_count,
                        target_count=target_count, headline_targets=list(headline), last_import=last_import)


def plan_sections(session: Session, plan: Plan) -> list[Section]:
    return list(session.exec(select(Section).where(Section.plan_id == plan.id).order_by(Section.number)))


def _task_loading():
    return (joinedload(Task.section),
            selectinload(Task.assignments).selectinload(TaskAssignment.unit),
            selectinload(Task.groups).selectinload(TaskGroup.group))


def task_page(session: Session, plan: Plan, *, section_id: int | None = None, lead_unit_id: int | None = None,
              unit_id: int | None = None, search: str = "", page: int = 1, size: int = 50,
              with_units: bool = True):
    """Return (tasks of one page, total) matching the filters, in document order.

    `with_units=False` loads the tasks and their sections only (see `task_list_owners`).
    """
    query = select(Task).where(Task.plan_id == plan.id, Task.is_active)
    if section_id is not None:
        query = query.where(Task.section_id == section_id)
    if lead_unit_id is not None:
        query = query.where(Task.id.in_(select(TaskAssignment.task_id).where(
            TaskAssignment.unit_id == lead_unit_id, TaskAssignment.role == Role.lead,
            TaskAssignment.via_group_id.is_(None))))
    if unit_id is not None:
        query = query.where(Task.id.in_(select(TaskAssignment.task_id).where(TaskAssignment.unit_id == unit_id)))
    if search:
        pattern = f"%{search.replace('%', '').replace('_', '')}%"
        query = query.where(sa.or_(Task.title.like(pattern), Task.text.like(pattern)))
    loading = _task_loading() if with_units else (joinedload(Task.section),)
    rows, total = fetch_page(session, query.options(*loading), Task.position, offset=(page - 1) * size, limit=size)
    return [task for task, in rows], total


@dataclass
class TaskOwners:
    """What the task list shows of a page of tasks: named lead units and groups, not every group member."""

    leads: dict[int, list[Unit]]
    groups: dict[int, list[tuple[str, bool]]]   #: task id → (group name, carried forward)


def task_list_owners(session: Session, task_ids: list[int]) -> TaskOwners:
    """The named lead units and the groups of some tasks, in two queries (a group of twelve areas stays one row)."""
    leads: dict[int, list[Unit]] = {task_id: [] for task_id in task_ids}
    groups: dict[int, list[tuple[str, bool]]] = {task_id: [] for task_id in task_ids}
    if task_ids:
        for task_id, unit in session.exec(
                select(TaskAssignment.task_id, Unit).join(Unit, Unit.id == TaskAssignment.unit_id)
                .where(TaskAssignment.task_id.in_(task_ids), TaskAssignment.role == Role.lead,
                       TaskAssignment.via_group_id.is_(None)).order_by(TaskAssignment.position)).all():
            leads[task_id].append(unit)
        for task_id, name, carried in session.exec(
                select(TaskGroup.task_id, UnitGroup.name, TaskGroup.is_carried_forward)
                .join(UnitGroup, UnitGroup.id == TaskGroup.group_id)
                .where(TaskGroup.task_id.in_(task_ids)).order_by(TaskGroup.position)).all():
            groups[task_id].append((name, carried))
    return TaskOwners(leads=leads, groups=groups)


def get_task(session: Session, task_id: int) -> Task:
    """:raises NotFound: if there is no such task"""
    task = session.exec(select(Task).where(Task.id == task_id)
                        .options(*_task_loading(), joinedload(Task.plan), selectinload(Task.targets))).first()
    if task is None:
        raise NotFound("没有这项任务")
    return task


def task_plan(session: Session, task: Task) -> Plan:
    return session.get(Plan, task.plan_id)  # no query when get_task loaded it


def lead_units(task: Task) -> list[Unit]:
    return [a.unit for a in task.assignments if a.role is Role.lead and a.via_group_id is None]


def responsible_units(task: Task) -> list[Unit]:
    return [a.unit for a in task.assignments if a.role is Role.responsible and a.via_group_id is None]


def group_members(task: Task) -> dict[int, list[Unit]]:
    """The units each of the task's groups stands for, from the task's loaded assignments."""
    members: dict[int, list[Unit]] = {g.group_id: [] for g in task.groups}
    for assignment in task.assignments:
        if assignment.via_group_id is not None:
            members.setdefault(assignment.via_group_id, []).append(assignment.unit)
    return members


@dataclass
class UnitTasks:
    leads: list[tuple[Task, TaskAssignment]]
    shares: list[tuple[Task, TaskAssignment]]
    lead_count: int
    share_count: int


def unit_tasks(session: Session, unit_id: int, *, limit: int = 100) -> UnitTasks:
    """The first tasks a unit leads and shares, with how many there are in all."""
    def page(is_lead: bool):
        role_filter = TaskAssignment.role == Role.lead if is_lead else TaskAssignment.role != Role.lead
        base = (select(TaskAssignment, Task).join(Task, Task.id == TaskAssignment.task_id)
                .where(TaskAssignment.unit_id == unit_id, Task.is_active, role_filter))
        total = session.exec(select(func.count()).select_from(base.subquery())).one()
        rows = session.exec(base.options(selectinload(TaskAssignment.via_group))
                            .order_by(Task.plan_id, Task.position).limit(limit)).all()
        return [(task, a) for a, task in rows], total

    leads, lead_count = page(True)
    shares, share_count = page(False)
    return UnitTasks(leads=leads, shares=shares, lead_count=lead_count, share_count=share_count)


@dataclass
class Annexes:
    plan: Plan
    area_targets: list[AreaTarget]
    indicators: list[Indicator]


def plan_annexes(session: Session, plan: Plan) -> Annexes:
    areas = session.exec(select(AreaTarget).where(AreaTarget.plan_id == plan.id)
                         .options(selectinload(AreaTarget.unit)).order_by(AreaTarget.position)).all()
    indicators = session.exec(select(Indicator).where(Indicator.plan_id == plan.id)
                              .order_by(Indicator.position)).all()
    return Annexes(plan=plan, area_targets=list(areas), indicators=list(indicators))


# --- export ------------------------------------------------------------------------------------

def _decimal_text(value) -> str | None:
    return None if value is None else format(value, "f")


def _target_json(target: Target) -> dict:
    return {"measure": target.measure,
            "comparator": target.comparator.symbol if target.comparator else None,
            "value": _decimal_text(target.value), "unit": target.unit,
            "deadline_year": target.deadline_year, "text": target.text}


def export_plan(session: Session, slug: str) -> dict:
    """Return the plan as the documented JSON structure (see `tracker plan export`)."""
    plan = get_plan(session, slug)
    tasks = session.exec(select(Task).where(Task.plan_id == plan.id, Task.is_active).order_by(Task.position)
                         .options(selectinload(Task.assignments).selectinload(TaskAssignment.unit),
                                  selectinload(Task.groups).selectinload(TaskGroup.group),
                                  selectinload(Task.targets))).all()
    headline = session.exec(select(Target).where(Target.plan_id == plan.id, Target.task_id.is_(None))
                            .order_by(Target.position)).all()
    annexes = plan_annexes(session, plan)
    groups = {g.group_id: g.group for t in tasks for g in t.groups}
    departments = {a.unit_id for t in tasks for a in t.assignments
                   if a.via_group_id is None and a.unit.kind in DEPARTMENT_KINDS}
    members = group_member_ids(session, list(groups.values()), plan_department_ids=departments)
    unit_ids = ({a.unit_id for t in tasks for a in t.assignments} | {a.unit_id for a in annexes.area_targets}
                | {m for ids in members.values() for m in ids})
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.id.in_(unit_ids or {-1}))
                                           .options(selectinload(Unit.aliases)).order_by(Unit.id))}
    task_rows = []
    for task in tasks:
        named = [a for a in task.assignments if a.via_group_id is None]
        task_rows.append({
            "section_number": task.section_number, "number": task.number, "title": task.title,
            "lead_units": [a.unit.name for a in named if a.role is Role.lead],
            "responsible_units": [a.unit.name for a in named if a.role is Role.responsible],
            "unit_groups": [g.group.name for g in task.groups],
            "targets": [_target_json(t) for t in task.targets], "text": task.text})
    return {
        "slug": plan.slug, "title": plan.title, "start_year": plan.start_year, "end_year": plan.end_year,
        "targets": [_target_json(t) for t in headline],
        "tasks": task_rows,
        "units": [{"name": u.name, "aliases": [a.alias for a in u.aliases], "kind": u.kind.value}
                  for u in units.values()],
        "unit_groups": [{"name": g.name, "members": [units[m].name for m in members[g.id]]}
                        for g in groups.values()],
        "area_targets": [{"area": a.unit.name, "basic_pct": _decimal_text(a.basic_pct),
                          "incentive_pct": _decimal_text(a.incentive_pct)} for a in annexes.area_targets],
        "indicators": [{"sector": i.sector, "name": i.name, "unit": i.unit,
                        "baseline_2020": _decimal_text(i.baseline_value),
                        "target_2025": _decimal_text(i.target_value), "change": i.change_text,
                        "flags": list(i.flags)} for i in annexes.indicators],
    }


#: above this many units in the directory the task filters take a typed unit name instead of a list
UNIT_CHOICES = 500


@dataclass(frozen=True)
class UnitChoice:
    """A unit as a filter offers it: its id and name, without loading the whole row."""

    id: int
    name: str


@dataclass
class PlanUnits:
    leads: list[UnitChoice]
    everyone: list[UnitChoice]


def plan_units(session: Session, plan: Plan, *, limit: int | None = None) -> PlanUnits | None:
    """The units a plan names: those that lead a task, and all that carry one; None when the directory holds
    more than `limit` (UNIT_CHOICES) units, too many for a list to choose from (the filters then take a name)."""
    limit = UNIT_CHOICES if limit is None else limit
    if len(session.exec(select(Unit.id).limit(limit + 1)).all()) > limit:
        return None
    leads = func.max(sa.case((sa.and_(TaskAssignment.role == Role.lead, TaskAssignment.via_group_id.is_(None)), 1),
                             else_=0))
    rows = session.exec(select(Unit.id, Unit.name, leads).join(TaskAssignment, TaskAssignment.unit_id == Unit.id)
                        .join(Task, Task.id == TaskAssignment.task_id).where(Task.plan_id == plan.id, Task.is_active)
                        .group_by(Unit.id, Unit.name, Unit.kind).order_by(Unit.kind, Unit.name)).all()
    choices = [(UnitChoice(unit_id, name), is_lead) for unit_id, name, is_lead in rows]
    return PlanUnits(leads=[unit for unit, is_lead in choices if is_lead], everyone=[unit for unit, _ in choices])
