"""Send what the outbox holds: claim rows atomically, send, commit each row on its own, retry with backoff."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
import base64
import hashlib
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from tracker.db import write_lock_first
from tracker.reminders.mailer import AuthenticationFailure, PermanentFailure, ServerUnavailable, TransientFailure
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
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
                        .execution_options(populate_existing=True)).all()
    owed = _still_owed(session, {a for row in rows for a in row.assignment_ids})
    # end the read; each row's update then opens its own short write transaction
    session.commit()
    envelope_sender = parseaddr(sender)[1]
    for index, row in enumerate(rows):
        if not calendar.is_working_day(row.business_date) or (row.assignment_ids and not set(row.assignment_ids) & owed):
            _save(session, row, status=MessageStatus.cancelled, claimed_by=None, lease_until=None,
                  last_error="发送前核对：已不再需要（已报送，或当天已不是工作日）")
            result.cancelled += 1
            continue
        try:
            delivery = mailer.send(build_email(row, sender), sender=envelope_sender,
                                   recipients=list(row.pending_recipients))
        except AuthenticationFailure as exc:
            _pause(session, f"邮件服务器拒绝了登录（{exc}）：请检查 TRACKER_SMTP_URL 中的账号和密码，改正后在邮件页面恢复发送", now)
            session.execute(sa.update(OutboxMessage.__table__)
                            .where(OutboxMessage.__table__.c.id.in_([unsent.id for unsent in rows[index:]]))
                            .values(status=MessageStatus.pending.value, claimed_by=None, lease_until=None))
            session.commit()
            for unsent in rows[index:]:
                session.expire(unsent)
            result.is_paused = True
            break
        except ServerUnavailable as exc:
            # unreachable or silent until the timeout: the rest of the batch would each wait as long (a black
            # hole would hold the tick for batch × timeout, past the lease), so they share this outcome now
            for unsent in rows[index:]:
                _save(session, unsent, **_retry(unsent, str(exc), now, policy, calendar, result),
                      attempts=unsent.attempts + 1, first_attempt_dt=unsent.first_attempt_dt or now,
                      claimed_by=None, lease_until=None)
            break
        except TransientFailure as exc:
            changes = _retry(row, str(exc), now, policy, calendar, result)
        except PermanentFailure as exc:
            changes = dict(status=MessageStatus.failed, last_error=str(exc), pending_recipients=[],
                           recipient_results={**row.recipient_results, **{a: str(exc) for a in row.pending_recipients}})
            result.failed += 1
        else:
            answers = {**row.recipient_results, **delivery.accepted, **delivery.transient, **delivery.permanent}
            refused = "；".join(f"{a}：{answer}" for a, answer in delivery.permanent.items()) or None
            if delivery.transient:
                changes = _retry(row, "；".join(f"{a}：{answer}" for a, answer in delivery.transient.items()), now,
                                 policy, calendar, result)
            elif delivery.accepted:
                changes = dict(status=MessageStatus.sent, sent_dt=now, last_error=refused)
                result.sent += 1
            else:
                changes = dict(status=MessageStatus.failed, last_error=refused)
                result.failed += 1
            changes.update(transport=mailer.transport, recipient_results=answers,
                           pending_recipients=sorted(delivery.transient))
        _save(session, row, **changes, attempts=row.attempts + 1, first_attempt_dt=row.first_attempt_dt or now,
              claimed_by=None, lease_until=None)
    return result


def _save(session: Session, row: OutboxMessage, **changes) -> None:
    """Write one row's outcome with a single UPDATE and commit it alone (cheaper than an ORM flush, which
    matters once per message); the object in hand is brought up to date without becoming dirty."""
    table = OutboxMessage.__table__
    values = {key: (value.value if isinstance(value, MessageStatus) else value) for key, value in changes.items()}
    session.execute(sa.update(table).where(table.c.id == row.id).values(**values))
    session.commit()
    for key, value in changes.items():
        set_committed_value(row, key, value)


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
           result: SendResult) -> dict:
    """The outcome of a transient failure: back to pending after a capped, jittered backoff, or dead."""
    first = row.first_attempt_dt or now
    if calendar.working_days_between(local_date(first), local_date(now)) >= policy.dead_after_working_days:
        result.dead += 1
        return dict(status=MessageStatus.dead, last_error=answer)
    delay = BACKOFF_SECONDS[row.attempts] if row.attempts < len(BACKOFF_SECONDS) else LATER_SECONDS
    delay *= random.uniform(0.9, 1.1)
    result.retried += 1
    return dict(status=MessageStatus.pending, last_error=answer,
                next_attempt_dt=next_window_start(policy, calendar, now + timedelta(seconds=delay)))


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


def build_email(row: OutboxMessage, sender: str) -> bytes:
    """The MIME message as bytes, rebuilt identically from the row each time (same Message-ID on a retry).

    A reminder is always the same shape — multipart/alternative, a text and an HTML part in UTF-8 —
    so it is written out directly: the stdlib's email classes take a millisecond or more per message,
    as long as the SMTP exchange itself, which a wave of tens of thousands of reminders cannot afford.
    Tests parse the result back with the stdlib parser.
    """
    name, address = parseaddr(sender)
    boundary = "=_tracker_" + hashlib.sha1(row.message_id.encode()).hexdigest()[:24]
    headers = [
        ("Subject", Header(row.subject, "utf-8").encode(linesep="\r\n")),
        ("From", formataddr((name, address), charset="utf-8") if name else address),
        ("To", ", ".join(row.recipients)),
        ("Date", format_datetime(row.created_dt)),
        ("Message-ID", row.message_id),
        ("Auto-Submitted", "auto-generated"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    lines = [f"{key}: {value}" for key, value in headers]
    for subtype, body in (("plain", row.body_text), ("html", row.body_html)):
        encoded = base64.encodebytes(body.encode("utf-8")).decode("ascii").replace("\n", "\r\n")
        lines.append(f"\r\n--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
                     f"Content-Transfer-Encoding: base64\r\n\r\n{encoded.rstrip()}")
    return ("\r\n".join(lines[:len(headers)]) + "\r\n" + "".join(lines[len(headers):])
            + f"\r\n--{boundary}--\r\n").encode("ascii")
