"""How complete a round is, per unit and per task, and what each user has to do next (我的待办). The round page
and the task page's panel read these counts through round_pages."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession, selectinload
from sqlmodel import Session, func, select

from tracker.accounts.permissions import can_review_task_report, is_unit_staff, sees_everything
from tracker.agencies.models import Unit
from tracker.reporting.models import (ReportingRound, ReportStatus, ReviewStatus, RoundAssignment, RoundStatus,
                                      TaskReport, UnitReport)
from tracker.tasks.models import Role, Task

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


def count_columns(due_passed: bool):
    outstanding = sa.or_(UnitReport.id.is_(None), UnitReport.status.in_((ReportStatus.draft, ReportStatus.returned)))
    return (
        func.count(RoundAssignment.id),
        func.sum(sa.case((UnitReport.id.is_(None), 1), else_=0)),
        *[func.sum(sa.case((UnitReport.status == status, 1), else_=0))
          for status in (ReportStatus.draft, ReportStatus.submitted, ReportStatus.returned, ReportStatus.accepted)],
        func.sum(sa.case((UnitReport.is_late.is_(True), 1), else_=0)),
        func.sum(sa.case((outstanding, 1), else_=0)) if due_passed else sa.literal(0),
    )


def completeness_of(values) -> Completeness:
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
    columns = count_columns(today > reporting_round.due_date)
    base = (select().select_from(RoundAssignment)
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .where(RoundAssignment.round_id == reporting_round.id))
    *overall, unit_total, task_total = session.exec(base.add_columns(
        *columns, func.count(sa.distinct(RoundAssignment.unit_id)), func.count(sa.distinct(RoundAssignment.task_id)))
    ).one()
    overall = completeness_of(overall)
    unit_rows = session.exec(
        base.add_columns(Unit, *columns).join(Unit, Unit.id == RoundAssignment.unit_id)
        .group_by(Unit.id).order_by(Unit.kind, Unit.name).offset((unit_page - 1) * size).limit(size)).all()
    task_rows = session.exec(
        base.add_columns(Task, *columns).join(Task, Task.id == RoundAssignment.task_id)
        .group_by(Task.id).order_by(Task.position).offset((task_page - 1) * size).limit(size)
        .options(selectinload(Task.section))).all()
    return RoundProgress(overall=overall, unit_total=unit_total, task_total=task_total,
                         units=[(row[0], completeness_of(row[1:])) for row in unit_rows],
                         tasks=[(row[0], completeness_of(row[1:])) for row in task_rows])


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
        result.append(completeness_of(values))
    return result
