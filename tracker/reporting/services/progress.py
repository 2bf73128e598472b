"""How complete a round is, per unit and per task, and what each user has to do next (我的待办)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession, selectinload
from sqlmodel import Session, func, select

from tracker.accounts.permissions import (can_report_for, can_review_report, can_review_task_report, is_unit_staff,
                                          sees_everything)
from tracker.agencies.models import Unit
from tracker.audit import services as audit
from tracker.audit.models import AuditEvent
from tracker.reporting.models import (ReportingRound, ReportStatus, ReviewStatus, RoundAssignment, RoundStatus,
                                      TaskReport, UnitReport)
from tracker.reporting.services.lights import TaskLight, lights_in_rounds
from tracker.reporting.services.rounds import get_settings
from tracker.tasks.models import Role, Section, Task
from tracker.time import load_calendar

STATUS_KEYS = ("not_started", "draft", "submitted", "returned", "accepted", "late", "missing")
STATUS_LABELS = {"not_started": "未开始", "draft": "草稿", "submitted": "已报送", "returned": "已退回",
                 "accepted": "已采纳", "late": "迟报", "missing": "逾期未报"}


@dataclass
class Completeness:
    total: int = 0
    not_started: int = 0
    draft: int = 0
    submitted: int = 0
    returned: int = 0
    accepted: int = 0
    late: int = 0
    missing: int = 0

    def __getitem__(self, key: str) -> int:
        """counts["late"] in a template, without Jinja's fallback from a failed lookup to getattr."""
        return getattr(self, key)

    @property
    def done(self) -> int:
        return self.submitted + self.accepted

    @property
    def done_pct(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _count_columns(due_passed: bool):
    outstanding = sa.or_(UnitReport.id.is_(None), UnitReport.status.in_((ReportStatus.draft, ReportStatus.returned)))
    return (
        func.count(RoundAssignment.id),
        func.sum(sa.case((UnitReport.id.is_(None), 1), else_=0)),
        *[func.sum(sa.case((UnitReport.status == status, 1), else_=0))
          for status in (ReportStatus.draft, ReportStatus.submitted, ReportStatus.returned, ReportStatus.accepted)],
        func.sum(sa.case((UnitReport.is_late.is_(True), 1), else_=0)),
        func.sum(sa.case((outstanding, 1), else_=0)) if due_passed else sa.literal(0),
    )


def _completeness(values) -> Completeness:
    return Completeness(*[int(v or 0) for v in values])


@dataclass
class RoundProgress:
    overall: Completeness
    units: list[tuple[Unit, Completeness]]
    unit_total: int
    tasks: list[tuple[Task, Completeness]]
    task_total: int


def round_progress(session: Session, reporting_round: ReportingRound, *, today: date, unit_page: int = 1,
                   task_page: int = 1, size: int = 50) -> RoundProgress:
    """Completeness overall, per unit and per task (each list paged), in four queries."""
    columns = _count_columns(today > reporting_round.due_date)
    base = (select().select_from(RoundAssignment)
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .where(RoundAssignment.round_id == reporting_round.id))
    *overall, unit_total, task_total = session.exec(base.add_columns(
        *columns, func.count(sa.distinct(RoundAssignment.unit_id)), func.count(sa.distinct(RoundAssignment.task_id)))
    ).one()
    overall = _completeness(overall)
    unit_rows = session.exec(
        base.add_columns(Unit, *columns).join(Unit, Unit.id == RoundAssignment.unit_id)
        .group_by(Unit.id).order_by(Unit.kind, Unit.name).offset((unit_page - 1) * size).limit(size)).all()
    task_rows = session.exec(
        base.add_columns(Task, *columns).join(Task, Task.id == RoundAssignment.task_id)
        .group_by(Task.id).order_by(Task.position).offset((task_page - 1) * size).limit(size)
        .options(selectinload(Task.section))).all()
    return RoundProgress(overall=overall, unit_total=unit_total, task_total=task_total,
                         units=[(row[0], _completeness(row[1:])) for row in unit_rows],
                         tasks=[(row[0], _completeness(row[1:])) for row in task_rows])


@dataclass
class Todo:
    """What waits for one user: to report, to fix, to review, to consolidate, to approve."""

    owed: list = field(default_factory=list)             #: (assignment, round, task, report|None)
    owed_count: int = 0
    returned: list = field(default_factory=list)         #: (assignment, round, task, report)
    returned_count: int = 0
    to_review: list = field(default_factory=list)        #: (report, unit, round, task)
    to_review_count: int = 0
    to_consolidate: list = field(default_factory=list)   #: (round, task, task_report|None)
    to_consolidate_count: int = 0
    task_reports_to_review: list = field(default_factory=list)  #: (task_report, round, task)
    task_reports_to_review_count: int = 0
    open_rounds: list = field(default_factory=list)      #: (round, Completeness)


def my_todo(session: Session, *, actor, today: date, limit: int = 50) -> Todo:
    """The first page after login, in a fixed number of queries whatever the amount of data."""
    todo = Todo()
    statements = _todo_statements()
    if is_unit_staff(actor):
        params = {"unit_id": actor.unit_id, "limit": limit}
        todo.owed, todo.owed_count = _page(session, statements["owed"], params)
        todo.returned, todo.returned_count = _page(session, statements["returned"], params)
        todo.to_review, todo.to_review_count = _page(session, statements["to_review"], params)
        todo.to_consolidate, todo.to_consolidate_count = _page(session, statements["to_consolidate"], params)
    if can_review_task_report(actor):
        todo.task_reports_to_review, todo.task_reports_to_review_count = _page(
            session, statements["task_reports_to_review"], {"limit": limit})
    if sees_everything(actor):
        rounds = session.exec(statements["open_rounds"]).all()
        todo.open_rounds = [(r, c) for r, c in zip(rounds, round_totals(session, rounds, today))]
    return todo


@cache
def _todo_statements() -> dict:
    """my_todo's statements, built once: each is a page (LIMIT :limit) carrying the count of all its rows."""
    open_round = ReportingRound.status == RoundStatus.open
    unit_id = sa.bindparam("unit_id")

    def paged(query, *order_by):
        return query.add_columns(func.count().over().label("page_total")).order_by(*order_by).limit(
            sa.bindparam("limit"))

    mine = (select(RoundAssignment, ReportingRound, Task, UnitReport)
            .join(ReportingRound, ReportingRound.id == RoundAssignment.round_id)
            .join(Task, Task.id == RoundAssignment.task_id)
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .where(RoundAssignment.unit_id == unit_id, open_round))
    led = (select(RoundAssignment.round_id, RoundAssignment.task_id)
           .where(RoundAssignment.unit_id == unit_id, RoundAssignment.role == Role.lead)).subquery()
    return {
        "owed": paged(mine.where(sa.or_(UnitReport.id.is_(None), UnitReport.status == ReportStatus.draft)),
                      ReportingRound.due_date, Task.position),
        "returned": paged(mine.where(UnitReport.status == ReportStatus.returned),
                          ReportingRound.due_date, Task.position),
        "to_review": paged(
            select(UnitReport, Unit, ReportingRound, Task)
            .join(led, sa.and_(led.c.round_id == UnitReport.round_id, led.c.task_id == UnitReport.task_id))
            .join(Unit, Unit.id == UnitReport.unit_id)
            .join(ReportingRound, ReportingRound.id == UnitReport.round_id)
            .join(Task, Task.id == UnitReport.task_id)
            .where(UnitReport.status == ReportStatus.submitted, open_round), UnitReport.submitted_dt),
        "to_consolidate": paged(
            select(ReportingRound, Task, TaskReport)
            .join(led, led.c.round_id == ReportingRound.id)
            .join(Task, Task.id == led.c.task_id)
            .outerjoin(TaskReport, sa.and_(TaskReport.round_id == ReportingRound.id, TaskReport.task_id == Task.id))
            .where(open_round, sa.or_(TaskReport.id.is_(None), TaskReport.review_status == ReviewStatus.returned)),
            ReportingRound.due_date, Task.position),
        "task_reports_to_review": paged(
            select(TaskReport, ReportingRound, Task)
            .join(ReportingRound, ReportingRound.id == TaskReport.round_id)
            .join(Task, Task.id == TaskReport.task_id)
            .where(TaskReport.review_status == ReviewStatus.submitted, open_round), TaskReport.submitted_dt),
        "open_rounds": select(ReportingRound).where(open_round).order_by(ReportingRound.due_date).limit(10),
    }


def _page(session: Session, statement, params: dict) -> tuple[list[tuple], int]:
    """The rows of a paged statement (as tuples of entities) and how many rows match in all (as fetch_page)."""
    rows = OrmSession.execute(session, statement, params).all()
    return [tuple(row)[:-1] for row in rows], (rows[0][-1] if rows else 0)


def round_totals(session: Session, rounds: list[ReportingRound], today: date) -> list[Completeness]:
    """Completeness of several rounds in one query."""
    if not rounds:
        return []
    outstanding = sa.or_(UnitReport.id.is_(None), UnitReport.status.in_((ReportStatus.draft, ReportStatus.returned)))
    rows = session.exec(
        select(RoundAssignment.round_id, func.count(RoundAssignment.id),
               func.sum(sa.case((UnitReport.id.is_(None), 1), else_=0)),
               *[func.sum(sa.case((UnitReport.status == s, 1), else_=0))
                 for s in (ReportStatus.draft, ReportStatus.submitted, ReportStatus.returned, ReportStatus.accepted)],
               func.sum(sa.case((UnitReport.is_late.is_(True), 1), else_=0)),
               func.sum(sa.case((outstanding, 1), else_=0)))
        .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
        .where(RoundAssignment.round_id.in_([r.id for r in rounds]))
        .group_by(RoundAssignment.round_id)).all()
    by_round = {row[0]: list(row[1:]) for row in rows}
    result = []
    for reporting_round in rounds:
        values = by_round.get(reporting_round.id, [0] * 8)
        if today <= reporting_round.due_date:
            values[-1] = 0
        result.append(_completeness(values))
    return result


# --- the round page and the task page ------------------------------------------------------------
#
# These pages are read often: their statements are built once (with bound parameters) and select the
# columns shown rather than whole entities; constructing a statement costs more than running it.

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
    return (select(*_count_columns(due_passed), func.count(sa.distinct(RoundAssignment.unit_id)),
                   func.count(sa.distinct(RoundAssignment.task_id)))
            .select_from(RoundAssignment)
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .where(RoundAssignment.round_id == sa.bindparam("round_id")))


@cache
def _unit_rows_statement(due_passed: bool):
    return (select(Unit.id, Unit.name, *_count_columns(due_passed))
            .select_from(RoundAssignment)
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .join(Unit, Unit.id == RoundAssignment.unit_id)
            .where(RoundAssignment.round_id == sa.bindparam("round_id"))
            .group_by(Unit.id).order_by(Unit.kind, Unit.name)
            .offset(sa.bindparam("offset")).limit(sa.bindparam("limit")))


@cache
def _task_rows_statement(due_passed: bool):
    return (select(Task.id, Task.level, Task.label, Task.title, Section.label, *_count_columns(due_passed))
            .select_from(RoundAssignment)
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .join(Task, Task.id == RoundAssignment.task_id)
            .outerjoin(Section, Section.id == Task.section_id)
            .where(RoundAssignment.round_id == sa.bindparam("round_id"))
            .group_by(Task.id, Section.id).order_by(Task.position)
            .offset(sa.bindparam("offset")).limit(sa.bindparam("limit")))


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
    params = {"round_id": reporting_round.id, "offset": (page - 1) * size, "limit": size}
    *overall, unit_total, task_total = _run(session, _overall_statement(due_passed), params).one()
    overview = RoundOverview(overall=_completeness(overall), unit_total=unit_total, task_total=task_total,
                             units=[], tasks=[])
    if tab == "units":
        overview.units = [UnitRow(row[0], row[1], _completeness(row[2:]))
                          for row in _run(session, _unit_rows_statement(due_passed), params)]
        return overview
    tasks = overview.tasks = [TaskRow(row[0], f"{display_number(row[1], row[2], row[4])} {row[3]}",
                                      _completeness(row[5:]))
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
