"""Send what the outbox holds: claim rows atomically, send, commit each row on its own, retry with backoff."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
import base64
import contextlib
import functools
import hashlib
from email.utils import format_datetime, formataddr, parseaddr

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key
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

    Rows travel as plain Core rows, never as ORM objects: each per-message commit would otherwise expire
    them (a SELECT per row to read them back) and make every commit walk a full identity map. Any
    OutboxMessage object the caller holds for a claimed row is expired at the end, so it reads the outcome.
    """
    result = SendResult()
    is_paused, is_due, has_expired_leases = _work(session, now)
    if is_paused:
        result.is_paused = True
        return result
    if not (is_due or has_expired_leases):
        # nothing due and no lease to release: no write lock, no policy to read (an idle tick stays one read)
        session.commit()
        return result
    policy, calendar = get_policy(session), load_calendar(session)
    if not in_send_window(policy, calendar, now):
        return result
    if has_expired_leases:
        release_expired_leases(session, now)
    rows = _claim_rows(session, worker=worker, now=now, batch=batch)
    if not rows:
        session.commit()
        return result
    try:
        # read in the claim's transaction, then commit it: each row's update opens its own short transaction
        owed = _still_owed(session, {a for row in rows for a in row.assignment_ids})
        session.commit()
        with _writer(session) as writer:
            _send_claimed(session, writer, rows, owed, mailer=mailer, now=now, sender=sender, policy=policy,
                          calendar=calendar, result=result)
    finally:
        _forget(session, [row.id for row in rows])
    return result


@contextlib.contextmanager
def _writer(session: Session):
    """Where each row's outcome is written and committed: one connection kept for the whole batch when the
    session is bound to an engine (a commit through the session hands its connection back to the pool and
    the next write checks one out again: a reset and, on PostgreSQL, a pre-ping round trip per message);
    the session itself when it is bound to a connection (the tests' savepoint sessions).

    On PostgreSQL each outcome is one UPDATE in autocommit (a transaction of its own, one round trip instead
    of two), committed with synchronous_commit off: the server acknowledges before its WAL reaches the disk,
    instead of waiting for one flush per message (most of a wave's time). A sender that dies loses nothing
    it was told was committed; only a crash of the database server itself can lose the last fraction of a
    second of outcomes, and those messages go out once more: the durability SQLite's synchronous=NORMAL
    gives the same rows.
    """
    bind = session.get_bind()
    if not isinstance(bind, sa.Engine):
        yield session
        return
    with bind.connect() as connection:
        relaxed = connection.dialect.name == "postgresql"
        if relaxed:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("SET synchronous_commit TO off")
        try:
            yield connection
        except BaseException:
            connection.invalidate()  # a relaxed connection never goes back to the pool
            raise
        if relaxed:
            connection.exec_driver_sql("RESET synchronous_commit")


def _send_claimed(session: Session, writer, rows: list, owed: set[int], *, mailer, now: datetime, sender: str, policy,
                  calendar: WorkingCalendar, result: SendResult) -> None:
    envelope_sender = parseaddr(sender)[1]
    for index, row in enumerate(rows):
        if not calendar.is_working_day(row.business_date) or (row.assignment_ids and not set(row.assignment_ids) & owed):
            _save(writer, row, status=MessageStatus.cancelled, claimed_by=None, lease_until=None,
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
            result.is_paused = True
            return
        except ServerUnavailable as exc:
            # unreachable or silent until the timeout: the rest of the batch would each wait as long (a black
            # hole would hold the tick for batch × timeout, past the lease), so they share this outcome now
            for unsent in rows[index:]:
                _save(writer, unsent, **_retry(unsent, str(exc), now, policy, calendar, result),
                      attempts=unsent.attempts + 1, first_attempt_dt=unsent.first_attempt_dt or now,
                      claimed_by=None, lease_until=None)
            return
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
        _save(writer, row, **changes, attempts=row.attempts + 1, first_attempt_dt=row.first_attempt_dt or now,
              claimed_by=None, lease_until=None)


def _save(writer, row, **changes) -> None:
    """Write one row's outcome with a single UPDATE and commit it alone: the commit per message is what
    limits a crash to one duplicate (the 250-before-commit window), so outcomes are never batched.

    The UPDATE goes straight to the driver's cursor, compiled once per set of columns with SQLAlchemy's own
    SQL and bind processors: it runs once per email, right after a wait on the mail server that leaves the
    CPU's caches cold, and the statement machinery around it cost twice the write itself. On an engine the
    writer's connection is in autocommit (SQLite without BEGIN, PostgreSQL set so by _writer): the UPDATE is
    its own transaction. On a session it joins the session's transaction, which the commit ends.
    """
    dialect = writer.get_bind().dialect if isinstance(writer, Session) else writer.dialect
    sql, order, processors = _outcome_statement(dialect, tuple(sorted(changes)))
    values = {f"outcome_{key}": value for key, value in changes.items()}
    values["outcome_row_id"] = row.id
    bound = {name: processors[name](value) if processors.get(name) else value for name, value in values.items()}
    connection = (writer.connection() if isinstance(writer, Session) else writer).connection.driver_connection
    cursor = connection.cursor()
    try:
        cursor.execute(sql, [bound[name] for name in order] if order is not None else bound)
    finally:
        cursor.close()
    writer.commit()


@functools.lru_cache(maxsize=64)
def _outcome_statement(dialect, keys: tuple[str, ...]) -> tuple[str, tuple | None, dict]:
    """The UPDATE of one row's `keys`, compiled for `dialect`: its SQL, the order of its positional parameters
    (None when they are named) and each parameter's bind processor (None when the driver takes it as is)."""
    table = OutboxMessage.__table__
    statement = (sa.update(table).where(table.c.id == sa.bindparam("outcome_row_id"))
                 .values({key: sa.bindparam(f"outcome_{key}") for key in keys}))
    compiled = statement.compile(dialect=dialect)
    processors = {f"outcome_{key}": table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys}
    return str(compiled), tuple(compiled.positiontup) if compiled.positional else None, processors


def _forget(session: Session, ids: list[int]) -> None:
    """Expire the caller's OutboxMessage objects for these rows (written by Core), so they are read afresh."""
    identity_map = session.identity_map
    if not len(identity_map):
        return
    for row_id in ids:
        held = identity_map.get(identity_key(OutboxMessage, row_id))
        if held is not None:
            session.expire(held)


def _work(session: Session, now: datetime) -> tuple[bool, bool, bool]:
    """(sending is paused, a row is due, a lease has run out), in one cheap read before any write lock. Only a
    hint: a row that becomes due a moment later is picked up by the next tick, as after an empty claim."""
    table = OutboxMessage.__table__
    due = sa.and_(table.c.status == MessageStatus.pending.value, table.c.next_attempt_dt <= now)
    expired = sa.and_(table.c.status == MessageStatus.sending.value, table.c.lease_until < now)
    paused = sa.select(MailQueueState.__table__.c.is_paused).limit(1).scalar_subquery()
    is_paused, is_due, has_expired = session.connection().execute(
        sa.select(paused, sa.exists().where(due), sa.exists().where(expired))).one()
    return bool(is_paused), bool(is_due), bool(has_expired)


def claim(session: Session, *, worker: str, now: datetime, batch: int) -> list[int]:
    """Mark up to `batch` due rows as ours, atomically, and commit; return their ids (see `_claim_rows`)."""
    ids = [row.id for row in _claim_rows(session, worker=worker, now=now, batch=batch)]
    session.commit()
    return ids


def _claim_rows(session: Session, *, worker: str, now: datetime, batch: int) -> list:
    """Mark up to `batch` due rows as ours, atomically: SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite;
    the claimed rows come back whole from the UPDATE's RETURNING (no second read), ordered by id. The
    claiming transaction is left open: the caller commits it.

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
        statement = sa.update(table).where(table.c.id == picked.c.id).values(**values).returning(*table.c)
    else:
        write_lock_first(session)
        statement = sa.update(table).where(table.c.id.in_(due.scalar_subquery())).values(**values).returning(*table.c)
    return sorted(session.connection().execute(statement).all(), key=lambda row: row.id)


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
    boundary = "=_tracker_" + hashlib.sha1(row.message_id.encode()).hexdigest()[:24]
    head = (f"Subject: {_encoded_words(row.subject)}\r\n"
            f"From: {_from_header(sender)}\r\n"
            f"To: {', '.join(row.recipients)}\r\n"
            f"Date: {format_datetime(row.created_dt)}\r\n"
            f"Message-ID: {row.message_id}\r\n"
            "Auto-Submitted: auto-generated\r\n"
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n')
    parts = [head]
    for subtype, body in (("plain", row.body_text), ("html", row.body_html)):
        encoded = base64.b64encode(body.encode("utf-8")).decode("ascii")
        lines = "\r\n".join([encoded[start:start + 76] for start in range(0, len(encoded), 76)])
        parts.append(f"\r\n--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
                     f"Content-Transfer-Encoding: base64\r\n\r\n{lines}")
    parts.append(f"\r\n--{boundary}--\r\n")
    return "".join(parts).encode("ascii")


#: raw bytes per RFC 2047 encoded word: 45 bytes are 60 base64 characters, a 72-character word (limit 75)
_WORD_BYTES = 45


def _encoded_words(text: str) -> str:
    """A header value as RFC 2047 base64 words in UTF-8, never splitting a character, folded one word a line
    (what email.header.Header(text, "utf-8").encode() gives, without its cost); short printable ASCII as is."""
    if text.isascii() and text.isprintable() and len(text) <= 60 and "=?" not in text:
        return text
    words, chunk, size = [], [], 0
    for character in text:
        encoded = character.encode("utf-8")
        if size + len(encoded) > _WORD_BYTES:
            words.append(b"".join(chunk))
            chunk, size = [], 0
        chunk.append(encoded)
        size += len(encoded)
    if chunk:
        words.append(b"".join(chunk))
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


@functools.lru_cache(maxsize=16)
def _from_header(sender: str) -> str:
    name, address = parseaddr(sender)
    return formataddr((name, address), charset="utf-8") if name else address
