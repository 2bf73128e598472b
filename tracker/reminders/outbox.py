"""Send what the outbox holds: claim rows atomically, send, commit each row on its own, retry with backoff."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from tracker.db import write_lock_first
from tracker.reminders.mailer import AuthenticationFailure, PermanentFailure, TransientFailure
from tracker.reminders.models import MailQueueState, MessageStatus, OutboxMessage
from tracker.reminders.policy import get_policy, in_send_window, next_window_start
from tracker.reporting.models import ReportStatus, RoundAssignment, UnitReport
from tracker.time import WorkingCalendar, load_calendar, local_date

#: capped backoff for transient failures; after the last step, every two hours
BACKOFF_SECONDS = (30, 60, 120, 300, 600, 1800)
LATER_SECONDS = 7200
LEASE = timedelta(minutes=5)


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0
    is_paused: bool = False


def queue_state(session: Session) -> MailQueueState:
    return session.exec(select(MailQueueState).limit(1)).first() or MailQueueState()


def send_outbox(session: Session, *, mailer, now: datetime, worker: str, sender: str, batch: int = 50) -> SendResult:
    """One sending pass: release expired leases, claim a batch, send each message and commit it alone.

    The only duplicate possible is a crash between the server's 250 and our commit of that row.
    """
    result = SendResult()
    policy, calendar = get_policy(session), load_calendar(session)
    if queue_state(session).is_paused:
        result.is_paused = True
        return result
    if not in_send_window(policy, calendar, now):
        return result
    release_expired_leases(session, now)
    ids = claim(session, worker=worker, now=now, batch=batch)
    if not ids:
        return result
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)).all()
    owed = _still_owed(session, {a for row in rows for a in row.assignment_ids})
    # end the read; each row's update then opens its own short write transaction
    session.commit()
    for index, row in enumerate(rows):
        if not calendar.is_working_day(row.business_date) or (row.assignment_ids and not set(row.assignment_ids) & owed):
            row.status, row.claimed_by, row.lease_until = MessageStatus.cancelled, None, None
            row.last_error = "发送前核对：已不再需要（已报送，或当天已不是工作日）"
            session.commit()
            result.cancelled += 1
            continue
        try:
            delivery = mailer.send(build_email(row, sender), list(row.pending_recipients))
        except AuthenticationFailure as exc:
            _pause(session, f"邮件服务器拒绝了登录（{exc}）：请检查 TRACKER_SMTP_URL 中的账号和密码，改正后在邮件页面恢复发送", now)
            for unsent in rows[index:]:
                unsent.status, unsent.claimed_by, unsent.lease_until = MessageStatus.pending, None, None
            session.commit()
            result.is_paused = True
            break
        except TransientFailure as exc:
            _retry(row, str(exc), now, policy, calendar, result)
        except PermanentFailure as exc:
            row.status, row.last_error = MessageStatus.failed, str(exc)
            row.recipient_results = {**row.recipient_results, **{a: str(exc) for a in row.pending_recipients}}
            row.pending_recipients = []
            result.failed += 1
        else:
            row.transport = mailer.transport
            row.recipient_results = {**row.recipient_results, **delivery.accepted, **delivery.transient,
                                     **delivery.permanent}
            row.pending_recipients = sorted(delivery.transient)
            if delivery.transient:
                _retry(row, "；".join(f"{a}：{answer}" for a, answer in delivery.transient.items()), now, policy,
                       calendar, result)
            elif delivery.accepted:
                row.status, row.sent_dt = MessageStatus.sent, now
                row.last_error = ("；".join(f"{a}：{answer}" for a, answer in delivery.permanent.items())
                                  or None)
                result.sent += 1
            else:
                row.status = MessageStatus.failed
                row.last_error = "；".join(f"{a}：{answer}" for a, answer in delivery.permanent.items())
                result.failed += 1
        row.attempts += 1
        row.first_attempt_dt = row.first_attempt_dt or now
        if row.status is MessageStatus.sending:
            row.status = MessageStatus.pending
        row.claimed_by = row.lease_until = None
        session.commit()
    return result


def claim(session: Session, *, worker: str, now: datetime, batch: int) -> list[int]:
    """Mark up to `batch` due rows as ours, atomically: SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite.

    On PostgreSQL the due rows are picked in a MATERIALIZED CTE: inside `id IN (SELECT … LIMIT n FOR
    UPDATE SKIP LOCKED)` the planner may run the subquery again per row and claim the whole queue.
    """
    table = OutboxMessage.__table__
    session.commit()
    due = (select(table.c.id).where(table.c.status == MessageStatus.pending.value, table.c.next_attempt_dt <= now)
           .order_by(table.c.id).limit(batch))
    values = dict(status=MessageStatus.sending.value, claimed_by=worker, lease_until=now + LEASE)
    if session.get_bind().dialect.name == "postgresql":
        picked = due.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
        statement = (sa.update(table).where(table.c.id == picked.c.id).values(**values).returning(table.c.id))
    else:
        write_lock_first(session)
        statement = sa.update(table).where(table.c.id.in_(due.scalar_subquery())).values(**values).returning(table.c.id)
    ids = list(session.execute(statement).scalars())
    session.commit()
    return ids


def release_expired_leases(session: Session, now: datetime) -> int:
    """A sender that died mid-batch leaves rows in `sending`; after the lease they are pending again."""
    table = OutboxMessage.__table__
    session.commit()
    write_lock_first(session)
    released = session.execute(sa.update(table).where(table.c.status == MessageStatus.sending.value,
                                                      table.c.lease_until < now)
                               .values(status=MessageStatus.pending.value, claimed_by=None, lease_until=None))
    session.commit()
    return released.rowcount or 0


def _retry(row: OutboxMessage, answer: str, now: datetime, policy, calendar: WorkingCalendar,
           result: SendResult) -> None:
    row.last_error = answer
    first = row.first_attempt_dt or now
    if calendar.working_days_between(local_date(first), local_date(now)) >= policy.dead_after_working_days:
        row.status = MessageStatus.dead
        result.dead += 1
        return
    delay = BACKOFF_SECONDS[row.attempts] if row.attempts < len(BACKOFF_SECONDS) else LATER_SECONDS
    delay *= random.uniform(0.9, 1.1)
    row.status = MessageStatus.pending
    row.next_attempt_dt = next_window_start(policy, calendar, now + timedelta(seconds=delay))
    result.retried += 1


def _still_owed(session: Session, assignment_ids: set[int]) -> set[int]:
    if not assignment_ids:
        return set()
    outstanding = sa.or_(UnitReport.id.is_(None), UnitReport.status.in_((ReportStatus.draft, ReportStatus.returned)))
    return set(session.exec(select(RoundAssignment.id)
                            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
                            .where(RoundAssignment.id.in_(assignment_ids), outstanding)).all())


def _pause(session: Session, reason: str, now: datetime) -> None:
    state = session.exec(select(MailQueueState).limit(1)).first()
    if state is None:
        state = MailQueueState()
        session.add(state)
    state.is_paused, state.reason, state.changed_dt = True, reason, now


def build_email(row: OutboxMessage, sender: str) -> EmailMessage:
    """The MIME message, rebuilt identically from the row each time (same Message-ID on a retry)."""
    message = EmailMessage()
    message["Subject"] = row.subject
    message["From"] = sender
    message["To"] = ", ".join(row.recipients)
    message["Date"] = format_datetime(row.created_dt)
    message["Message-ID"] = row.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    return message
