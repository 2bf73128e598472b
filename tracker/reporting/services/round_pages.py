"""The round page and the task page's reporting panel. Both are read often: their statements are built once
(with bound parameters) and select the columns shown rather than whole entities, since constructing a
statement costs more than running it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from types import SimpleNamespace

import sqlalchemy as sa
from sqlmodel import Session, func, select

from tracker.accounts.permissions import can_report_for, can_review_report, is_unit_staff, sees_everything
from tracker.agencies.models import Unit
from tracker.audit import services as audit
from tracker.audit.models import AuditEvent
from tracker.reporting.models import ReportingRound, RoundAssignment, RoundStatus, UnitReport
from tracker.reporting.services.lights import TaskLight, lights_in_rounds
from tracker.reporting.services.progress import Completeness, completeness_of, count_columns
from tracker.reporting.services.rounds import get_settings
from tracker.tasks.models import Role, Section, Task
from tracker.time import load_calendar


def _run(session: Session, statement, parameters: dict):
    """Rows of columns for a prepared statement, on the session's connection and transaction.

    Only for statements of plain columns: no entities to load, so the ORM's execution layer is skipped.
    """
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, parameters)


def display_number(level, label: str, section_label: str | None) -> str:
    """Task.display_number from the columns it reads."""
    return Task.display_number.fget(SimpleNamespace(
        level=level, label=label, section=None if section_label is None else SimpleNamespace(label=section_label)))


@cache
def _overall_statement(due_passed: bool):
    return (select(*count_columns(due_passed), func.count(sa.distinct(RoundAssignment.unit_id)),
                   func.count(sa.distinct(RoundAssignment.task_id)))
            .select_from(RoundAssignment)
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .where(RoundAssignment.round_id == sa.bindparam("round_id")))


# The rows of one page are picked first (units or tasks of the round, in page order, by index) and only
# their assignments are counted: grouping the whole round before LIMIT counted 300,000 assignments of a
# nation's round for the 50 rows shown.

def _in_round(owner, column):
    """The unit or task `column` names has an assignment in the round (`owner` is the assignment's column)."""
    return sa.exists().where(RoundAssignment.round_id == sa.bindparam("round_id"), owner == column)


@cache
def _unit_rows_statement(due_passed: bool):
    page = (select(Unit.id, Unit.name, Unit.kind).where(_in_round(RoundAssignment.unit_id, Unit.id))
            .order_by(Unit.kind, Unit.name, Unit.id)
            .offset(sa.bindparam("offset")).limit(sa.bindparam("limit")).subquery("page"))
    return (select(page.c.id, page.c.name, *count_columns(due_passed))
            .select_from(page)
            .join(RoundAssignment, sa.and_(RoundAssignment.round_id == sa.bindparam("round_id"),
                                           RoundAssignment.unit_id == page.c.id))
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .group_by(page.c.id, page.c.name, page.c.kind).order_by(page.c.kind, page.c.name, page.c.id))


@cache
def _task_rows_statement(due_passed: bool):
    page = (select(Task.id, Task.level, Task.label, Task.title, Task.section_id, Task.position)
            .where(Task.plan_id == sa.bindparam("plan_id"), _in_round(RoundAssignment.task_id, Task.id))
            .order_by(Task.position, Task.id)
            .offset(sa.bindparam("offset")).limit(sa.bindparam("limit")).subquery("page"))
    return (select(page.c.id, page.c.level, page.c.label, page.c.title, Section.label, *count_columns(due_passed))
            .select_from(page)
            .join(RoundAssignment, sa.and_(RoundAssignment.round_id == sa.bindparam("round_id"),
                                           RoundAssignment.task_id == page.c.id))
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .outerjoin(Section, Section.id == page.c.section_id)
            .group_by(page.c.id, page.c.level, page.c.label, page.c.title, page.c.position, Section.label)
            .order_by(page.c.position, page.c.id))


@cache
def _round_assignments_statement(with_own_unit: bool):
    wanted = RoundAssignment.role == Role.lead
    if with_own_unit:
        wanted = sa.or_(wanted, RoundAssignment.unit_id == sa.bindparam("unit_id"))
    return (select(RoundAssignment.task_id, RoundAssignment.id, RoundAssignment.unit_id, RoundAssignment.role,
                   Unit.name)
            .join(Unit, Unit.id == RoundAssignment.unit_id)
            .where(RoundAssignment.round_id == sa.bindparam("round_id"),
                   RoundAssignment.task_id.in_(sa.bindparam("task_ids", expanding=True)), wanted)
            .order_by(RoundAssignment.id))


@dataclass
class UnitLink:
    """A unit as a page names it: its id (for the link) and name."""

    id: int
    name: str


@dataclass
class UnitRow:
    """The round page by unit: one unit's completeness."""

    id: int
    name: str
    counts: Completeness


@dataclass
class TaskRow:
    """The round page by task: one task's completeness, light, lead units and where the actor may go."""

    id: int
    name: str                     #: display number and title
    counts: Completeness
    light: TaskLight | None = None
    lead_units: list[UnitLink] = field(default_factory=list)
    may_review: bool = False      #: the actor may open the task's review page
    assignment_id: int | None = None  #: the assignment the actor's unit reports on


@dataclass
class RoundOverview:
    """The round page: completeness overall, and one page of units or of tasks (with lights and links)."""

    overall: Completeness
    unit_total: int
    task_total: int
    units: list[UnitRow]
    tasks: list[TaskRow]


def round_overview(session: Session, reporting_round: ReportingRound, *, actor, today: date, tab: str = "tasks",
                   page: int = 1, size: int = 50) -> RoundOverview:
    """Everything the round page shows for one tab, in a fixed number of queries however large the round."""
    due_passed = today > reporting_round.due_date
    params = {"round_id": reporting_round.id, "plan_id": reporting_round.plan_id, "offset": (page - 1) * size,
              "limit": size}
    *overall, unit_total, task_total = _run(session, _overall_statement(due_passed), params).one()
    overview = RoundOverview(overall=completeness_of(overall), unit_total=unit_total, task_total=task_total,
                             units=[], tasks=[])
    if tab == "units":
        overview.units = [UnitRow(row[0], row[1], completeness_of(row[2:]))
                          for row in _run(session, _unit_rows_statement(due_passed), params)]
        return overview
    tasks = overview.tasks = [TaskRow(row[0], f"{display_number(row[1], row[2], row[4])} {row[3]}",
                                      completeness_of(row[5:]))
                              for row in _run(session, _task_rows_statement(due_passed), params)]
    if not tasks:
        return overview
    task_ids = [row.id for row in tasks]
    counts = {(reporting_round.id, row.id): (row.counts.not_started + row.counts.draft + row.counts.returned,
                                             row.counts.late, row.counts.total - row.counts.not_started)
              for row in tasks}
    lights = lights_in_rounds(session, [reporting_round], task_ids, today=today, calendar=load_calendar(session),
                              settings=get_settings(session), counts=counts)[reporting_round.id]
    own_unit = is_unit_staff(actor)
    by_id = {row.id: row for row in tasks}
    for task_id, assignment_id, unit_id, role, unit_name in _run(
            session, _round_assignments_statement(own_unit),
            {"round_id": reporting_round.id, "task_ids": task_ids, "unit_id": actor.unit_id if own_unit else None}):
        row = by_id[task_id]
        if role is Role.lead:
            row.lead_units.append(UnitLink(unit_id, unit_name))
        if can_report_for(actor, unit_id):
            row.assignment_id = assignment_id
    everything = sees_everything(actor)
    for row in tasks:
        row.light = lights.get(row.id)
        row.may_review = everything or can_review_report(actor, {unit.id for unit in row.lead_units})
    return overview


@dataclass
class RoundRef:
    """A round as the task page shows it (and its lights read it)."""

    id: int
    plan_id: int
    label: str
    due_date: date
    period_end: date


@cache
def _task_rounds_statement():
    return (select(ReportingRound.id, ReportingRound.plan_id, ReportingRound.label, ReportingRound.due_date,
                   ReportingRound.period_end, RoundAssignment.id, RoundAssignment.unit_id, RoundAssignment.role,
                   Unit.name)
            .join(RoundAssignment, RoundAssignment.round_id == ReportingRound.id)
            .join(Unit, Unit.id == RoundAssignment.unit_id)
            .where(ReportingRound.plan_id == sa.bindparam("plan_id"), ReportingRound.status == RoundStatus.open,
                   RoundAssignment.task_id == sa.bindparam("task_id"))
            .order_by(ReportingRound.due_date.desc(), ReportingRound.id.desc(), RoundAssignment.id))


@dataclass
class TaskInRound:
    """One open round as the task page shows it."""

    round: RoundRef
    light: TaskLight
    lead_units: list[UnitLink]
    may_review: bool              #: the actor may open the task's review page in this round
    assignment_id: int | None     #: the assignment the actor's unit reports on, if it carries the task


@dataclass
class TaskPanel:
    rounds: list[TaskInRound]
    #: the task's history, oldest first; None when the actor may not read it
    history: list[AuditEvent] | None


def task_panel(session: Session, task: Task, *, actor, today: date, round_limit: int = 5) -> TaskPanel:
    """The task in its plan's open rounds (light, links) and its history, in a fixed number of queries.

    The history names units, reasons for returns and overrides: it is shown to those who may read every
    report of the task (the office, coordinators, leaders and the task's lead units), as the review page is.
    """
    rows = _run(session, _task_rounds_statement(), {"plan_id": task.plan_id, "task_id": task.id})
    per_round: dict[int, list] = {}
    shown: list = []   #: the rounds, as rows of the columns the page and the lights read
    for round_id, plan_id, label, due_date, period_end, *assignment in rows:
        if round_id not in per_round:
            if len(shown) == round_limit:
                break
            shown.append(RoundRef(round_id, plan_id, label, due_date, period_end))
        per_round.setdefault(round_id, []).append((round_id, *assignment))
    lights = lights_in_rounds(session, shown, [task.id], today=today, calendar=load_calendar(session),
                              settings=get_settings(session), targets=task.targets) if shown else {}
    in_rounds = []
    for reporting_round in shown:
        light = lights[reporting_round.id][task.id]
        assignments = per_round[reporting_round.id]
        leads = [UnitLink(unit_id, name) for _, _, unit_id, role, name in assignments if role is Role.lead]
        lead_ids = {unit.id for unit in leads}
        in_rounds.append(TaskInRound(
            round=reporting_round, light=light, lead_units=leads,
            may_review=sees_everything(actor) or can_review_report(actor, lead_ids),
            assignment_id=next((a_id for _, a_id, unit_id, _, _ in assignments if can_report_for(actor, unit_id)),
                               None)))
    lead_ids = {a.unit_id for a in task.assignments if a.role is Role.lead}
    lead_ids |= {unit.id for entry in in_rounds for unit in entry.lead_units}
    readable = sees_everything(actor) or can_review_report(actor, lead_ids)
    return TaskPanel(rounds=in_rounds, history=audit.task_timeline(session, task.id) if readable else None)
