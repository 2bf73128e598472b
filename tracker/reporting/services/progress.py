"""How complete a round is, per unit and per task, and what each user has to do next (我的待办)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, func, select

from tracker.accounts.permissions import (can_report_for, can_review_report, can_review_task_report, is_unit_staff,
                                          sees_everything)
from tracker.agencies.models import Unit
from tracker.audit import services as audit
from tracker.audit.models import AuditEvent
from tracker.reporting.models import (ReportingRound, ReportStatus, ReviewStatus, RoundAssignment, RoundStatus,
                                      TaskReport, UnitReport)
from tracker.db import fetch_page
from tracker.reporting.services.lights import TaskLight, lights_in_rounds
from tracker.reporting.services.rounds import get_settings
from tracker.tasks.models import Role, Task
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
    open_round = ReportingRound.status == RoundStatus.open
    if is_unit_staff(actor):
        mine = (select(RoundAssignment, ReportingRound, Task, UnitReport)
                .join(ReportingRound, ReportingRound.id == RoundAssignment.round_id)
                .join(Task, Task.id == RoundAssignment.task_id)
                .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
                .where(RoundAssignment.unit_id == actor.unit_id, open_round))
        owed = mine.where(sa.or_(UnitReport.id.is_(None), UnitReport.status == ReportStatus.draft))
        todo.owed, todo.owed_count = _page(session, owed, limit, ReportingRound.due_date, Task.position)
        returned = mine.where(UnitReport.status == ReportStatus.returned)
        todo.returned, todo.returned_count = _page(session, returned, limit, ReportingRound.due_date, Task.position)
        led = (select(RoundAssignment.round_id, RoundAssignment.task_id)
               .where(RoundAssignment.unit_id == actor.unit_id, RoundAssignment.role == Role.lead)).subquery()
        review = (select(UnitReport, Unit, ReportingRound, Task)
                  .join(led, sa.and_(led.c.round_id == UnitReport.round_id, led.c.task_id == UnitReport.task_id))
                  .join(Unit, Unit.id == UnitReport.unit_id)
                  .join(ReportingRound, ReportingRound.id == UnitReport.round_id)
                  .join(Task, Task.id == UnitReport.task_id)
                  .where(UnitReport.status == ReportStatus.submitted, open_round))
        todo.to_review, todo.to_review_count = _page(session, review, limit, UnitReport.submitted_dt)
        consolidate = (select(ReportingRound, Task, TaskReport)
                       .join(led, led.c.round_id == ReportingRound.id)
                       .join(Task, Task.id == led.c.task_id)
                       .outerjoin(TaskReport, sa.and_(TaskReport.round_id == ReportingRound.id,
                                                      TaskReport.task_id == Task.id))
                       .where(open_round, sa.or_(TaskReport.id.is_(None),
                                                 TaskReport.review_status == ReviewStatus.returned)))
        todo.to_consolidate, todo.to_consolidate_count = _page(session, consolidate, limit,
                                                               ReportingRound.due_date, Task.position)
    if can_review_task_report(actor):
        pending = (select(TaskReport, ReportingRound, Task)
                   .join(ReportingRound, ReportingRound.id == TaskReport.round_id)
                   .join(Task, Task.id == TaskReport.task_id)
                   .where(TaskReport.review_status == ReviewStatus.submitted, open_round))
        todo.task_reports_to_review, todo.task_reports_to_review_count = _page(session, pending, limit,
                                                                               TaskReport.submitted_dt)
    if sees_everything(actor):
        rounds = session.exec(select(ReportingRound).where(open_round)
                              .order_by(ReportingRound.due_date).limit(10)).all()
        todo.open_rounds = [(r, c) for r, c in zip(rounds, round_totals(session, rounds, today))]
    return todo


def _page(session: Session, query, limit: int, *order_by):
    return fetch_page(session, query, *order_by, limit=limit)


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

@dataclass
class RoundOverview:
    """The round page: completeness, each task's light, and where the actor may go from each task."""

    progress: RoundProgress
    lights: dict[int, TaskLight]
    lead_units: dict[int, list[Unit]]   #: task id → its lead units in the round
    may_review: set[int]                #: tasks whose review page the actor may open
    my_assignments: dict[int, int]      #: task id → the assignment the actor's unit reports on


def round_overview(session: Session, reporting_round: ReportingRound, *, actor, today: date, unit_page: int = 1,
                   task_page: int = 1, size: int = 50) -> RoundOverview:
    """Everything the round page shows, in a fixed number of queries however large the round."""
    summary = round_progress(session, reporting_round, today=today, unit_page=unit_page, task_page=task_page,
                             size=size)
    task_ids = [task.id for task, _ in summary.tasks]
    counts = {(reporting_round.id, task.id): (c.not_started + c.draft + c.returned, c.late, c.total - c.not_started)
              for task, c in summary.tasks}
    lights = lights_in_rounds(session, [reporting_round], task_ids, today=today, calendar=load_calendar(session),
                              settings=get_settings(session), counts=counts)[reporting_round.id]
    wanted = RoundAssignment.role == Role.lead
    if is_unit_staff(actor):
        wanted = sa.or_(wanted, RoundAssignment.unit_id == actor.unit_id)
    rows = session.exec(
        select(RoundAssignment.task_id, RoundAssignment.id, RoundAssignment.unit_id, RoundAssignment.role, Unit)
        .join(Unit, Unit.id == RoundAssignment.unit_id)
        .where(RoundAssignment.round_id == reporting_round.id, RoundAssignment.task_id.in_(task_ids), wanted)
        .order_by(RoundAssignment.id)).all() if task_ids else []
    leads: dict[int, list[Unit]] = {task_id: [] for task_id in task_ids}
    mine: dict[int, int] = {}
    for task_id, assignment_id, unit_id, role, unit in rows:
        if role is Role.lead:
            leads[task_id].append(unit)
        if can_report_for(actor, unit_id):
            mine[task_id] = assignment_id
    may_review = {task_id for task_id in task_ids
                  if sees_everything(actor) or can_review_report(actor, {u.id for u in leads[task_id]})}
    return RoundOverview(progress=summary, lights=lights, lead_units=leads, may_review=may_review,
                         my_assignments=mine)


@dataclass
class TaskInRound:
    """One open round as the task page shows it."""

    round: ReportingRound
    light: TaskLight
    lead_units: list[Unit]
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
    rows = session.exec(
        select(ReportingRound, RoundAssignment.id, RoundAssignment.unit_id, RoundAssignment.role, Unit)
        .join(RoundAssignment, RoundAssignment.round_id == ReportingRound.id)
        .join(Unit, Unit.id == RoundAssignment.unit_id)
        .where(ReportingRound.plan_id == task.plan_id, ReportingRound.status == RoundStatus.open,
               RoundAssignment.task_id == task.id)
        .order_by(ReportingRound.due_date.desc(), ReportingRound.id.desc(), RoundAssignment.id)).all()
    per_round: dict[int, list] = {}
    shown: list[ReportingRound] = []
    for reporting_round, *assignment in rows:
        if reporting_round.id not in per_round:
            if len(shown) == round_limit:
                break
            shown.append(reporting_round)
        per_round.setdefault(reporting_round.id, []).append((reporting_round.id, *assignment))
    lights = lights_in_rounds(session, shown, [task.id], today=today, calendar=load_calendar(session),
                              settings=get_settings(session), targets=task.targets) if shown else {}
    in_rounds = []
    for reporting_round in shown:
        light = lights[reporting_round.id][task.id]
        assignments = per_round[reporting_round.id]
        leads = [unit for _, _, _, role, unit in assignments if role is Role.lead]
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
