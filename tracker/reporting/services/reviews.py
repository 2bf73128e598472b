"""The lead unit's review (采纳 / 退办) and consolidated report; the coordinators' review of it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from tracker.accounts.permissions import (can_consolidate, can_review_report, can_review_task_report, require,
                                          require_visible, sees_everything)
from tracker.audit import services as audit
from tracker.errors import Conflict, Invalid, NotFound
from tracker.reporting.models import (Light, ReportingRound, ReportStatus, ReviewStatus, RoundAssignment,
                                      TaskProgress, TaskReport, UnitReport)
from tracker.reporting.services.light_summary import refresh_task_lights
from tracker.reporting.services.lights import TaskLight, compute_lights
from tracker.reporting.services.reports import lead_unit_ids
from tracker.reporting.services.rounds import get_settings
from tracker.tasks.models import Task
from tracker.time import load_calendar, local_date

MAX_REASON_CHARS = 1000


@dataclass
class TaskReview:
    """Everything the lead sees for one task in one round."""

    round: ReportingRound
    task: Task
    assignments: list[RoundAssignment]
    task_report: TaskReport | None
    lead_unit_ids: set[int]


def get_task_review(session: Session, round_id: int, task_id: int, *, actor) -> TaskReview:
    """Load a task's unit reports and consolidated report in a round, for its lead and overseers.

    :raises NotFound: if the round or task does not exist, or the actor neither leads it nor sees everything
    """
    reporting_round = session.get(ReportingRound, round_id)
    task = session.exec(select(Task).where(Task.id == task_id)
                        .options(selectinload(Task.targets), selectinload(Task.section))).first()
    if reporting_round is None or task is None:
        raise NotFound("没有这项任务的调度")
    leads = lead_unit_ids(session, round_id, task_id)
    require_visible(sees_everything(actor) or can_review_report(actor, leads))
    assignments = session.exec(
        select(RoundAssignment).where(RoundAssignment.round_id == round_id, RoundAssignment.task_id == task_id)
        .options(selectinload(RoundAssignment.unit), selectinload(RoundAssignment.via_group),
                 selectinload(RoundAssignment.report).selectinload(UnitReport.values),
                 selectinload(RoundAssignment.report).selectinload(UnitReport.attachments))
        .order_by(RoundAssignment.role, RoundAssignment.id).execution_options(populate_existing=True)).all()
    if not assignments:
        raise NotFound("这项任务不在本次调度中")
    task_report = session.exec(select(TaskReport).where(TaskReport.round_id == round_id,
                                                        TaskReport.task_id == task_id)).first()
    return TaskReview(round=reporting_round, task=task, assignments=list(assignments), task_report=task_report,
                      lead_unit_ids=leads)


def task_light(session: Session, review: TaskReview, now: datetime) -> TaskLight:
    return compute_lights(session, review.round, [review.task.id], today=local_date(now),
                          calendar=load_calendar(session), settings=get_settings(session))[review.task.id]


def _reason(reason: str | None, *, required: bool, field: str = "reason") -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise Invalid(field, "请写明理由")
    if len(text) > MAX_REASON_CHARS:
        raise Invalid(field, f"理由不能超过 {MAX_REASON_CHARS} 个字")
    return text or None


def review_report(session: Session, review: TaskReview, report_id: int, *, accept: bool, reason: str | None,
                  actor, now: datetime) -> UnitReport:
    """Accept a unit's report, or return it (退办) with a reason the unit will see.

    :raises PermissionDenied: unless `actor` is staff of the task's lead unit
    :raises Conflict: if the round is closed or the report is not waiting for review
    :raises Invalid: if returned without a reason
    """
    require(can_review_report(actor, review.lead_unit_ids), "只有牵头单位可以审核本任务的报告")
    report = next((a.report for a in review.assignments if a.report and a.report.id == report_id), None)
    if report is None:
        raise NotFound("没有这份报告")
    if not review.round.is_open:
        raise Conflict("本次调度已关闭")
    if report.status is not ReportStatus.submitted:
        raise Conflict("这份报告不在待审核状态")
    text = _reason(reason, required=not accept)
    report.status = ReportStatus.accepted if accept else ReportStatus.returned
    report.returned_reason = None if accept else text
    report.reviewed_dt, report.reviewed_by_id = now, getattr(actor, "id", None)
    unit_name = next(a.unit.name for a in review.assignments if a.id == report.assignment_id)
    audit.record(session, actor=actor, action="report.accepted" if accept else "report.returned", now=now,
                 target=report, task_id=review.task.id, round_id=review.round.id,
                 summary=f"{'采纳' if accept else '退回'}了{unit_name}的报告" + ("" if accept else f"：{text}"))
    refresh_task_lights(session, review.round, [review.task.id], now=now)
    session.commit()
    return report


def submit_task_report(session: Session, review: TaskReview, *, progress: TaskProgress, progress_pct: str,
                       narrative: str, light_override: Light | None, light_override_reason: str | None,
                       actor, now: datetime) -> TaskReport:
    """Submit (or resubmit) the lead's consolidated report; the light before and after goes into the history.

    :raises PermissionDenied: unless `actor` is staff of the task's lead unit
    :raises Conflict: if the round is closed or the report was already accepted
    :raises Invalid: for a percentage outside 0–100, no narrative, an override without a reason
    """
    require(can_consolidate(actor, review.lead_unit_ids), "只有牵头单位可以报送本任务的汇总情况")
    if not review.round.is_open:
        raise Conflict("本次调度已关闭")
    existing = review.task_report
    if existing is not None and existing.review_status is ReviewStatus.accepted:
        raise Conflict("汇总报告已被统筹单位采纳，不能再修改")
    try:
        pct = Decimal(str(progress_pct).strip())
    except (InvalidOperation, ValueError):
        raise Invalid("progress_pct", "完成进度请填写 0 到 100 之间的数字") from None
    if not pct.is_finite() or not Decimal(0) <= pct <= Decimal(100):
        raise Invalid("progress_pct", "完成进度请填写 0 到 100 之间的数字")
    text = (narrative or "").strip()
    if not text:
        raise Invalid("narrative", "请填写汇总情况")
    if len(text) > 10000:
        raise Invalid("narrative", "汇总情况不能超过 10000 个字")
    override_reason = _reason(light_override_reason, required=light_override is not None,
                              field="light_override_reason") if light_override else None
    before = task_light(session, review, now).light
    task_report = existing or TaskReport(round_id=review.round.id, task_id=review.task.id,
                                         unit_id=actor.unit_id, progress=progress, progress_pct=pct,
                                         narrative=text, submitted_dt=now)
    task_report.unit_id, task_report.progress, task_report.progress_pct = actor.unit_id, progress, pct
    task_report.narrative, task_report.submitted_dt = text, now
    task_report.submitted_by_id = getattr(actor, "id", None)
    task_report.review_status, task_report.review_reason = ReviewStatus.submitted, None
    task_report.light_override, task_report.light_override_reason = light_override, override_reason
    session.add(task_report)
    session.flush()
    review.task_report = task_report
    after = task_light(session, review, now)
    audit.record(session, actor=actor, action="task_report.submitted", now=now, target=task_report,
                 task_id=review.task.id, round_id=review.round.id,
                 summary=f"报送汇总情况：{progress.label}，完成 {pct}%",
                 details={"light_before": before.value if before else None,
                          "light_after": after.light.value if after.light else None})
    if light_override:
        audit.record(session, actor=actor, action="light.overridden", now=now, target=task_report,
                     task_id=review.task.id, round_id=review.round.id,
                     summary=f"把红黄绿灯调整为{light_override.label}（规则计算为"
                             f"{after.computed.label if after.computed else '未评定'}）：{override_reason}")
    refresh_task_lights(session, review.round, [review.task.id], now=now)
    session.commit()
    return task_report


def review_task_report(session: Session, review: TaskReview, *, accept: bool, reason: str | None, actor,
                       now: datetime) -> TaskReport:
    """A coordinator accepts or returns the lead's consolidated report.

    :raises Conflict: if there is none waiting for review, or the round is closed
    """
    require(can_review_task_report(actor), "只有统筹单位可以审核汇总报告")
    task_report = review.task_report
    if task_report is None or task_report.review_status is not ReviewStatus.submitted:
        raise Conflict("没有待审核的汇总报告")
    if not review.round.is_open:
        raise Conflict("本次调度已关闭")
    text = _reason(reason, required=not accept)
    task_report.review_status = ReviewStatus.accepted if accept else ReviewStatus.returned
    task_report.review_reason = None if accept else text
    task_report.reviewed_dt, task_report.reviewed_by_id = now, getattr(actor, "id", None)
    audit.record(session, actor=actor, action="task_report.accepted" if accept else "task_report.returned", now=now,
                 target=task_report, task_id=review.task.id, round_id=review.round.id,
                 summary=f"{'采纳' if accept else '退回'}了汇总报告" + ("" if accept else f"：{text}"))
    refresh_task_lights(session, review.round, [review.task.id], now=now)
    session.commit()
    return task_report
