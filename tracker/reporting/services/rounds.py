"""Opening and closing reporting rounds (定期调度), and the office's settings for them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import Session, func, select

from tracker.accounts.permissions import (can_close_round, can_edit_settings, can_open_round, require,
                                          require_visible, can_view_round)
from tracker.audit import services as audit
from tracker.errors import Conflict, Invalid, NotFound
from tracker.reporting.models import (ReportingRound, ReportingSettings, RoundAssignment, RoundLightSummary,
                                      RoundStatus)
from tracker.tasks.plan_writes import refresh_group_assignments
from tracker.tasks.models import Plan, Task, TaskAssignment

QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


def get_settings(session: Session) -> ReportingSettings:
    """The office's settings, or the documented defaults if nobody changed them yet."""
    return session.exec(select(ReportingSettings).order_by(ReportingSettings.id).limit(1)).first() or ReportingSettings()


def update_settings(session: Session, *, cadence_months: int, path_tolerance_pct: int, red_after_working_days: int,
                    first_named_leads: bool, actor, now: datetime) -> ReportingSettings:
    """Change the cadence and the light thresholds.

    :raises Invalid: for values outside their sensible range
    """
    require(can_edit_settings(actor))
    if cadence_months not in (1, 2, 3, 4, 6, 12):
        raise Invalid("cadence_months", "调度周期只能是 1、2、3、4、6 或 12 个月")
    if not 0 <= path_tolerance_pct <= 100:
        raise Invalid("path_tolerance_pct", "容许落后的百分点应在 0 到 100 之间")
    if not 1 <= red_after_working_days <= 60:
        raise Invalid("red_after_working_days", "红灯的逾期工作日数应在 1 到 60 之间")
    settings = session.exec(select(ReportingSettings).limit(1)).first()
    if settings is None:
        settings = ReportingSettings()
        session.add(settings)
    settings.cadence_months, settings.path_tolerance_pct = cadence_months, path_tolerance_pct
    settings.red_after_working_days, settings.first_named_leads = red_after_working_days, first_named_leads
    settings.updated_dt, settings.updated_by_id = now, getattr(actor, "id", None)
    audit.record(session, actor=actor, action="settings.updated", now=now, target=settings,
                 summary=f"调度周期 {cadence_months} 个月，容许落后 {path_tolerance_pct} 个百分点，"
                         f"逾期 {red_after_working_days} 个工作日亮红灯")
    # the summarised lights followed the old thresholds: the dashboard computes live until the next refresh
    session.execute(sa.update(RoundLightSummary).values(computed_on=None))
    session.commit()
    return settings


@dataclass(frozen=True)
class RoundProposal:
    label: str
    period_start: date
    period_end: date
    due_date: date


def propose_round(today: date, cadence_months: int) -> RoundProposal:
    """Suggest the round for the period that ended most recently, due ten days after it.

    A round opened late (the usual due date less than five days away, or past) is due ten days
    from today instead: a due date in the past would make every unit late the moment it opens.
    """
    period_index = (today.month - 1) // cadence_months
    start_month = period_index * cadence_months + 1
    end = date(today.year, start_month, 1) - timedelta(days=1)
    start_month_prev = ((end.month - 1) // cadence_months) * cadence_months + 1
    start = date(end.year, start_month_prev, 1)
    if cadence_months == 3:
        label = f"{end.year}年{QUARTER_NAMES[(end.month - 1) // 3 + 1]}调度"
    elif cadence_months == 6:
        label = f"{end.year}年{'上' if end.month <= 6 else '下'}半年调度"
    elif cadence_months == 12:
        label = f"{end.year}年度调度"
    elif cadence_months == 1:
        label = f"{end.year}年{end.month}月调度"
    else:
        label = f"{end.year}年{start.month}—{end.month}月调度"
    due = end + timedelta(days=10)
    if due < today + timedelta(days=5):
        due = today + timedelta(days=10)
    return RoundProposal(label, start, end, due)


def open_round(session: Session, plan: Plan, *, label: str, period_start: date, period_end: date, due_date: date,
               actor, now: datetime) -> ReportingRound:
    """Open a round: one assignment for every (task, unit), groups resolved to their members now.

    :raises PermissionDenied: unless `actor` is the office
    :raises Invalid: for a blank label, a period that ends before it starts, a due date before the period
    :raises Conflict: if the plan already has a round with this label
    """
    require(can_open_round(actor))
    label = (label or "").strip()
    if not label or len(label) > 80:
        raise Invalid("label", "请填写调度名称（不超过 80 个字），如“2025年第三季度调度”")
    if period_end < period_start:
        raise Invalid("period_end", "调度期的结束日期不能早于开始日期")
    if due_date < period_start:
        raise Invalid("due_date", "报送截止日期不能早于调度期开始日期")
    if session.exec(select(ReportingRound.id).where(ReportingRound.plan_id == plan.id,
                                                    ReportingRound.label == label)).first():
        raise Conflict(f"本计划已有名为“{label}”的调度")
    refresh_group_assignments(session, plan.id)
    reporting_round = ReportingRound(plan_id=plan.id, label=label, period_start=period_start, period_end=period_end,
                                     due_date=due_date, opened_dt=now, opened_by_id=getattr(actor, "id", None))
    session.add(reporting_round)
    session.flush()
    copied = (select(sa.literal(reporting_round.id), TaskAssignment.task_id, TaskAssignment.unit_id,
                     TaskAssignment.role, TaskAssignment.via_group_id, TaskAssignment.is_carried_forward)
              .join(Task, Task.id == TaskAssignment.task_id)
              .where(Task.plan_id == plan.id, Task.is_active))
    session.execute(sa.insert(RoundAssignment).from_select(
        ["round_id", "task_id", "unit_id", "role", "via_group_id", "is_carried_forward"], copied))
    count = session.exec(select(func.count()).select_from(RoundAssignment)
                         .where(RoundAssignment.round_id == reporting_round.id)).one()
    if count == 0:
        raise Invalid("label", "这个计划没有任何承担单位，无法开启调度")
    audit.record(session, actor=actor, action="round.opened", now=now, target=reporting_round,
                 round_id=reporting_round.id,
                 summary=f"开启“{label}”：{count} 项报送任务，{due_date:%Y-%m-%d} 截止")
    session.commit()
    return reporting_round


def close_round(session: Session, reporting_round: ReportingRound, *, actor, now: datetime) -> ReportingRound:
    """Close a round: nothing in it can change any more.

    :raises Conflict: if it is already closed
    """
    require(can_close_round(actor))
    if reporting_round.status is RoundStatus.closed:
        raise Conflict("这次调度已经关闭")
    reporting_round.status, reporting_round.closed_dt = RoundStatus.closed, now
    reporting_round.closed_by_id = getattr(actor, "id", None)
    audit.record(session, actor=actor, action="round.closed", now=now, target=reporting_round,
                 round_id=reporting_round.id, summary=f"关闭“{reporting_round.label}”")
    session.commit()
    return reporting_round


def get_round(session: Session, round_id: int, *, actor) -> ReportingRound:
    """:raises NotFound: if there is no such round (or the actor may not see rounds)"""
    require_visible(can_view_round(actor))
    found = session.exec(select(ReportingRound).where(ReportingRound.id == round_id)
                         .options(joinedload(ReportingRound.plan))).first()
    if found is None:
        raise NotFound("没有这次调度")
    return found


def list_rounds(session: Session, *, actor, plan_id: int | None = None, page: int = 1,
                size: int = 50) -> tuple[list[ReportingRound], int]:
    require_visible(can_view_round(actor))
    query = select(ReportingRound)
    if plan_id is not None:
        query = query.where(ReportingRound.plan_id == plan_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.options(selectinload(ReportingRound.plan))
                        .order_by(ReportingRound.opened_dt.desc(), ReportingRound.id.desc())
                        .offset((page - 1) * size).limit(size)).all()
    return list(rows), total
