"""The reminder ladder on working days: when a unit is reminded, chased, and who is copied."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from tracker.accounts.permissions import can_edit_settings, require
from tracker.audit import services as audit
from tracker.errors import Invalid
from tracker.reminders.models import ReminderPolicy
from tracker.time import PLAN_TZ, WorkingCalendar, local_date


def get_policy(session: Session) -> ReminderPolicy:
    """The office's policy, or the documented defaults if nobody changed it."""
    return session.exec(select(ReminderPolicy).order_by(ReminderPolicy.id).limit(1)).first() or ReminderPolicy()


def update_policy(session: Session, *, fields: dict, actor, now: datetime) -> ReminderPolicy:
    """Change the reminder policy.

    :raises Invalid: for a value out of range or a window that ends before it starts
    """
    require(can_edit_settings(actor))
    ranges = {"remind_before_working_days": (0, 30), "chase_every_working_days": (1, 20),
              "copy_lead_after_working_days": (1, 60), "copy_office_after_working_days": (1, 60),
              "dead_after_working_days": (1, 30)}
    for name, (low, high) in ranges.items():
        if not low <= int(fields[name]) <= high:
            raise Invalid(name, f"应在 {low} 到 {high} 之间")
    if fields["send_window_end"] <= fields["send_window_start"]:
        raise Invalid("send_window_end", "发送时段的结束时间应晚于开始时间")
    policy = session.exec(select(ReminderPolicy).limit(1)).first()
    if policy is None:
        policy = ReminderPolicy()
        session.add(policy)
    for name in (*ranges, "is_enabled", "remind_on_due_date", "send_window_start", "send_window_end"):
        setattr(policy, name, fields[name])
    policy.updated_dt, policy.updated_by_id = now, getattr(actor, "id", None)
    audit.record(session, actor=actor, action="settings.updated", now=now, target=policy,
                 summary=f"修改提醒规则：截止前 {policy.remind_before_working_days} 个工作日提醒，"
                         f"逾期每 {policy.chase_every_working_days} 个工作日催办，"
                         f"逾期 {policy.copy_lead_after_working_days} 日抄送牵头单位，"
                         f"{policy.copy_office_after_working_days} 日抄送办公室和统筹单位")
    session.commit()
    return policy


@dataclass(frozen=True)
class Standing:
    """Where a round stands today for the units that still owe it."""

    lateness: int                 #: working days late (0 on the due date, negative before it)
    milestone: date | None        #: the latest reminder day reached (None: no reminder yet)
    copy_lead_since: date | None  #: the latest chase day on which the lead units are copied
    copy_office_since: date | None


def standing(policy: ReminderPolicy, calendar: WorkingCalendar, due: date, today: date) -> Standing:
    """Apply the ladder: 督办提醒 N working days before and on the due date, then 催办 on the first
    working day late and every M working days after; copies from the thresholds on chase days."""
    lateness = calendar.working_days_between(due, today)
    milestones: list[date] = []
    before = calendar.add_working_days(due, -policy.remind_before_working_days)
    if policy.remind_before_working_days and before <= today:
        milestones.append(before)
    if policy.remind_on_due_date and due <= today:
        milestones.append(due)
    lead_copy = office_copy = None
    if lateness >= 1:
        step = policy.chase_every_working_days
        chase_day = 1 + ((lateness - 1) // step) * step
        chase_date = calendar.add_working_days(due, chase_day)
        milestones.append(chase_date)
        if chase_day >= policy.copy_lead_after_working_days:
            lead_copy = chase_date
        if chase_day >= policy.copy_office_after_working_days:
            office_copy = chase_date
    return Standing(lateness=lateness, milestone=max(milestones) if milestones else None,
                    copy_lead_since=lead_copy, copy_office_since=office_copy)


def in_send_window(policy: ReminderPolicy, calendar: WorkingCalendar, moment: datetime) -> bool:
    local = moment.astimezone(PLAN_TZ)
    return (calendar.is_working_day(local.date())
            and policy.send_window_start <= local.time().replace(tzinfo=None) < policy.send_window_end)


def next_window_start(policy: ReminderPolicy, calendar: WorkingCalendar, moment: datetime) -> datetime:
    """The moment itself if it is inside the window, else the start of the next window."""
    if in_send_window(policy, calendar, moment):
        return moment
    day = local_date(moment)
    local_time = moment.astimezone(PLAN_TZ).time().replace(tzinfo=None)
    if not (calendar.is_working_day(day) and local_time < policy.send_window_start):
        day = calendar.add_working_days(day, 1)
    start = datetime.combine(day, policy.send_window_start, tzinfo=PLAN_TZ)
    return start.astimezone(moment.tzinfo)


def window_label(policy: ReminderPolicy) -> str:
    return f"{policy.send_window_start:%H:%M}—{policy.send_window_end:%H:%M}"

