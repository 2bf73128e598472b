"""Each task's light in a round, by DOMAIN.md's rules, computed for many tasks (in several rounds) in four queries.

green: on track. yellow: behind the pro-rata path (序时进度), a report late, or the lead says 滞后.
red: a report still missing N working days after the due date, or a target's deadline passed unmet.
A lead's override is shown, with its reason, beside what the rules say.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache

import sqlalchemy as sa
from sqlmodel import Session, select

from tracker.reporting.models import (Light, ReportedValue, ReportingRound, ReportingSettings, ReportStatus,
                                      RoundAssignment, TaskProgress, TaskReport, UnitReport)
from tracker.tasks.models import Plan, Role, Target, meets
from tracker.time import WorkingCalendar

OUTSTANDING = (ReportStatus.draft, ReportStatus.returned)


@dataclass
class TaskLight:
    light: Light | None                   #: what to show: the override if any, else the rules' answer
    computed: Light | None                #: what the rules say (None: nothing due yet, nothing reported)
    reasons: list[str] = field(default_factory=list)
    override_reason: str | None = None
    expected_pct: Decimal | None = None   #: the pro-rata path at the round's period end
    progress_pct: Decimal | None = None


def expected_progress(plan: Plan, on: date) -> Decimal | None:
    """The share of the plan period elapsed on a date, in percent (序时进度)."""
    if not plan.start_year or not plan.end_year:
        return None
    start, end = date(plan.start_year, 1, 1), date(plan.end_year, 12, 31)
    elapsed = min(max((on - start).days, 0), (end - start).days)
    return (Decimal(elapsed) / Decimal((end - start).days) * 100).quantize(Decimal("0.1"))


def compute_lights(session: Session, reporting_round: ReportingRound, task_ids: list[int], *, today: date,
                   calendar: WorkingCalendar, settings: ReportingSettings) -> dict[int, TaskLight]:
    """Each task's light in one round."""
    return lights_in_rounds(session, [reporting_round], task_ids, today=today, calendar=calendar,
                            settings=settings)[reporting_round.id]


def lights_in_rounds(session: Session, rounds: list[ReportingRound], task_ids: list[int], *, today: date,
                     calendar: WorkingCalendar, settings: ReportingSettings,
                     targets: list[Target] | None = None,
                     counts: dict[tuple[int, int], tuple[int, int, int]] | None = None) -> dict[int, dict[int, TaskLight]]:
    """round id → task id → light, for the tasks in several rounds, in the same four queries as for one.

    When the caller has them already, `targets` are the tasks' targets and `counts` maps (round id, task id)
    to (reports outstanding, reports late, reports started): each saves a query.
    """
    if not task_ids or not rounds:
        return {r.id: {} for r in rounds}
    round_ids = [r.id for r in rounds]
    if counts is None:
        counts = {(row[0], row[1]): row[2:] for row in _run(
            session, _counts_statement(), {"round_ids": round_ids, "task_ids": list(task_ids)})}
    # the columns the rules read, not whole entities: named rows answer the same attribute names
    task_reports = {(r.round_id, r.task_id): r for r in _run(
        session, _task_reports_statement(), {"round_ids": round_ids, "task_ids": list(task_ids)})}
    unmet = _unmet_deadlines(session, task_ids, today, targets)
    return {reporting_round.id: _round_lights(session, reporting_round, task_ids, counts, task_reports, unmet,
                                              today=today, calendar=calendar, settings=settings)
            for reporting_round in rounds}


def _run(session: Session, statement, parameters: dict):
    """Rows of columns for a prepared statement, on the session's connection and transaction.

    Only for statements of plain columns: no entities to load, so the ORM's execution layer is skipped.
    """
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, parameters)


# The statements are built once and reused with their parameters: building one costs more than running it.

@cache
def _counts_statement():
    outstanding = sa.or_(UnitReport.id.is_(None), UnitReport.status.in_(OUTSTANDING))
    return (select(RoundAssignment.round_id, RoundAssignment.task_id,
                   sa.func.sum(sa.case((outstanding, 1), else_=0)),
                   sa.func.sum(sa.case((UnitReport.is_late.is_(True), 1), else_=0)),
                   sa.func.count(UnitReport.id))
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .where(RoundAssignment.round_id.in_(sa.bindparam("round_ids", expanding=True)),
                   RoundAssignment.task_id.in_(sa.bindparam("task_ids", expanding=True)))
            .group_by(RoundAssignment.round_id, RoundAssignment.task_id))


@cache
def _task_reports_statement():
    return select(TaskReport.round_id, TaskReport.task_id, TaskReport.progress, TaskReport.progress_pct,
                  TaskReport.light_override, TaskReport.light_override_reason).where(
        TaskReport.round_id.in_(sa.bindparam("round_ids", expanding=True)),
        TaskReport.task_id.in_(sa.bindparam("task_ids", expanding=True)))


@cache
def _due_targets_statement():
    return select(Target.id, Target.task_id, Target.measure, Target.comparator, Target.value,
                  Target.deadline_year).where(
        Target.task_id.in_(sa.bindparam("task_ids", expanding=True)),
        Target.deadline_year < sa.bindparam("year"), Target.value.is_not(None))


@cache
def _latest_values_statement():
    return (select(ReportedValue.target_id, ReportedValue.value)
            .join(UnitReport, UnitReport.id == ReportedValue.report_id)
            .join(RoundAssignment, RoundAssignment.id == UnitReport.assignment_id)
            .join(ReportingRound, ReportingRound.id == UnitReport.round_id)
            .where(ReportedValue.target_id.in_(sa.bindparam("target_ids", expanding=True)),
                   UnitReport.status == ReportStatus.accepted)
            .order_by(ReportingRound.period_end.desc(), ReportingRound.id.desc(),
                      sa.case((RoundAssignment.role == Role.lead, 0), else_=1), UnitReport.id))


def _round_lights(session: Session, reporting_round: ReportingRound, task_ids: list[int], counts: dict,
                  task_reports: dict, unmet: dict, *, today: date, calendar: WorkingCalendar,
                  settings: ReportingSettings) -> dict[int, TaskLight]:
    plan = session.get(Plan, reporting_round.plan_id)
    expected = expected_progress(plan, reporting_round.period_end)
    red_day = calendar.add_working_days(reporting_round.due_date, settings.red_after_working_days)
    lights = {}
    for task_id in task_ids:
        missing, late, reported = counts.get((reporting_round.id, task_id), (0, 0, 0))
        missing, late, reported = int(missing or 0), int(late or 0), int(reported or 0)
        task_report = task_reports.get((reporting_round.id, task_id))
        red, yellow = [], []
        if missing and today > red_day:
            red.append(f"{missing} 个单位逾期未报超过 {settings.red_after_working_days} 个工作日")
        red += unmet.get(task_id, [])
        if missing and reporting_round.due_date < today <= red_day:
            yellow.append(f"{missing} 个单位逾期未报")
        if late:
            yellow.append(f"{late} 个单位迟报")
        if task_report is not None:
            if task_report.progress is TaskProgress.lagging:
                yellow.append("牵头单位报告进度滞后")
            if expected is not None and task_report.progress_pct < expected - settings.path_tolerance_pct:
                yellow.append(f"完成进度 {task_report.progress_pct}% 落后于序时进度 {expected}%")
        if red:
            computed = Light.red
        elif yellow:
            computed = Light.yellow
        elif task_report is None and reported == 0 and today <= reporting_round.due_date:
            computed = None
        else:
            computed = Light.green
        override = task_report.light_override if task_report else None
        lights[task_id] = TaskLight(
            light=override or computed, computed=computed, reasons=red + yellow,
            override_reason=task_report.light_override_reason if override else None, expected_pct=expected,
            progress_pct=task_report.progress_pct if task_report else None)
    return lights


def _unmet_deadlines(session: Session, task_ids: list[int], today: date,
                     loaded: list[Target] | None = None) -> dict[int, list[str]]:
    """Targets whose deadline year has ended without an accepted value that meets them."""
    if loaded is None:
        targets = _run(session, _due_targets_statement(), {"task_ids": list(task_ids), "year": today.year}).all()
    else:
        targets = [t for t in loaded if t.task_id in task_ids and t.deadline_year is not None
                   and t.deadline_year < today.year and t.value is not None]
    if not targets:
        return {}
    latest = latest_accepted_values(session, [t.id for t in targets])
    unmet: dict[int, list[str]] = {}
    for target in targets:
        if meets(target.comparator, target.value, latest.get(target.id)) is not True:
            unmet.setdefault(target.task_id, []).append(
                f"目标“{target.measure}”期限（{target.deadline_year}年）已过，尚未达到")
    return unmet


def latest_accepted_values(session: Session, target_ids: list[int]) -> dict[int, Decimal]:
    """The latest accepted value reported against each target, the lead unit's first."""
    rows = _run(session, _latest_values_statement(), {"target_ids": list(target_ids)}).all()
    latest: dict[int, Decimal] = {}
    for target_id, value in rows:
        latest.setdefault(target_id, value)
    return latest
