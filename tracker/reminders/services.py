"""The office's side of reminders: the mail page, resending dead letters, resuming the queue, the calendar."""
from __future__ import annotations

import socket
import os
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, func, select

from tracker.accounts.permissions import can_edit_settings, require
from tracker.audit import services as audit
from tracker.errors import Conflict, Invalid, NotFound
from tracker.reminders.models import MailQueueState, MessageStatus, OutboxMessage
from tracker.reminders.outbox import SendResult, send_outbox
from tracker.reminders.planner import plan_reminders
from tracker.time import CalendarOverride, WorkingCalendar, load_calendar


@dataclass
class PassResult:
    queued: int
    sending: SendResult

    def line(self) -> str:
        return f"queued={self.queued} sent={self.sending.sent} failed={self.sending.failed + self.sending.dead}"


def run_once(session: Session, *, now: datetime, mailer, base_url: str, sender: str, batch: int = 200) -> PassResult:
    """One planning pass and one sending pass: exactly what the scheduler's ticks do."""
    queued = plan_reminders(session, now=now, base_url=base_url, sender=sender)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    with mailer:
        sending = send_outbox(session, mailer=mailer, now=now, worker=worker, sender=sender, batch=batch)
    return PassResult(queued=queued, sending=sending)


def list_messages(session: Session, *, status: MessageStatus | None, page: int, size: int, actor):
    require(can_edit_settings(actor))
    query = select(OutboxMessage)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(OutboxMessage.id.desc()).offset((page - 1) * size).limit(size)).all()
    counts = dict(session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    return list(rows), total, counts


def get_message(session: Session, message_id: int, *, actor) -> OutboxMessage:
    require(can_edit_settings(actor))
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise NotFound("没有这封邮件")
    return row


def resend_message(session: Session, row: OutboxMessage, *, actor, now: datetime) -> OutboxMessage:
    """Give a dead or failed message another life: pending again, to the recipients it did not reach.

    :raises Conflict: if it is not dead or failed
    """
    require(can_edit_settings(actor))
    if row.status not in (MessageStatus.dead, MessageStatus.failed):
        raise Conflict("只有发送失败的邮件可以重新发送")
    if not row.recipients:
        raise Conflict("这封邮件没有收件人：请先为该单位登记联系人，再等下一次提醒")
    undelivered = [a for a in row.recipients if not str(row.recipient_results.get(a, "")).startswith("250")]
    row.pending_recipients = undelivered or list(row.recipients)
    row.status, row.attempts, row.first_attempt_dt, row.next_attempt_dt = MessageStatus.pending, 0, None, now
    audit.record(session, actor=actor, action="mail.resent", now=now, target=row,
                 summary=f"重新发送邮件“{row.subject}”")
    session.commit()
    return row


def resume_queue(session: Session, *, actor, now: datetime) -> None:
    require(can_edit_settings(actor))
    state = session.exec(select(MailQueueState).limit(1)).first()
    if state is None or not state.is_paused:
        raise Conflict("邮件发送没有暂停")
    state.is_paused, state.reason, state.changed_dt = False, None, now
    audit.record(session, actor=actor, action="mail.resumed", now=now, summary="恢复邮件发送")
    session.commit()


# --- the working-day calendar ------------------------------------------------------------------------

@dataclass
class YearCalendar:
    year: int
    is_published: bool
    working_day_count: int
    holidays: list            #: CalendarDay on weekdays that are not working days
    makeup_days: list         #: CalendarDay on weekends that are working days (调休)
    overrides: list[CalendarOverride]


def year_calendar(session: Session, year: int) -> YearCalendar:
    calendar = load_calendar(session)
    days = [calendar.day(date.fromordinal(n))
            for n in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1)]
    overrides = session.exec(select(CalendarOverride).where(CalendarOverride.day >= date(year, 1, 1),
                                                            CalendarOverride.day <= date(year, 12, 31))
                             .order_by(CalendarOverride.day)).all()
    return YearCalendar(
        year=year, is_published=WorkingCalendar.is_year_published(year),
        working_day_count=sum(d.is_working_day for d in days),
        holidays=[d for d in days if not d.is_working_day and d.day.weekday() < 5],
        makeup_days=[d for d in days if d.is_working_day and d.day.weekday() >= 5], overrides=list(overrides))


def set_override(session: Session, *, day: date, is_working_day: bool, note: str, actor, now: datetime) -> CalendarOverride:
    """Declare a day working or not, over the published schedule (a new year's 调休, a local holiday).

    Reminders already queued for a day that stops being a working day are cancelled before they go out.
    """
    require(can_edit_settings(actor))
    note = (note or "").strip()
    if len(note) > 120:
        raise Invalid("note", "说明不能超过 120 个字")
    override = session.get(CalendarOverride, day) or CalendarOverride(day=day, is_working_day=is_working_day,
                                                                       updated_dt=now)
    override.is_working_day, override.note = is_working_day, note
    override.updated_dt, override.updated_by_id = now, getattr(actor, "id", None)
    session.add(override)
    audit.record(session, actor=actor, action="calendar.changed", now=now,
                 summary=f"把 {day:%Y-%m-%d} 设为{'工作日' if is_working_day else '休息日'}{('：' + note) if note else ''}")
    session.commit()
    return override


def remove_override(session: Session, *, day: date, actor, now: datetime) -> None:
    require(can_edit_settings(actor))
    override = session.get(CalendarOverride, day)
    if override is None:
        raise NotFound("这一天没有调整")
    session.delete(override)
    audit.record(session, actor=actor, action="calendar.changed", now=now,
                 summary=f"取消 {day:%Y-%m-%d} 的调整，恢复公布的安排")
    session.commit()
