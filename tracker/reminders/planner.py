"""Decide who is reminded today and queue one digest per unit per working day in the outbox."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parseaddr

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from tracker.accounts.models import User, UserRole
from tracker.agencies.models import Contact, Unit
from tracker.db import write_lock_first
from tracker.reminders import emails
from tracker.reminders.models import MessageStatus, OutboxMessage
from tracker.reminders.policy import Standing, get_policy, in_send_window, standing
from tracker.reporting.models import ReportingRound, ReportStatus, RoundAssignment, RoundStatus, UnitReport
from tracker.tasks.models import Role, Task
from tracker.time import load_calendar, local_date

DIGEST = "digest"
STATUS_LABELS = {None: "未填报", ReportStatus.draft: "草稿未报送", ReportStatus.returned: "已退回待修改"}


@dataclass
class Owed:
    assignment_id: int
    round_id: int
    task_id: int
    unit_id: int
    role: Role
    status: ReportStatus | None
    returned_reason: str | None
    task_key: str
    task_title: str
    unit_name: str


@dataclass
class Recipient:
    unit_id: int
    own: list[Owed] = field(default_factory=list)
    copies: list[Owed] = field(default_factory=list)
    trigger: date | None = None

    def raise_trigger(self, day: date | None) -> None:
        if day is not None and (self.trigger is None or day > self.trigger):
            self.trigger = day


def plan_reminders(session: Session, *, now: datetime, base_url: str, sender: str) -> int:
    """Queue today's digests; return how many were queued. Safe to run from several processes at once:
    the (unit, working day) key is unique and inserts that collide are dropped by the database."""
    write_lock_first(session)
    policy = get_policy(session)
    calendar = load_calendar(session)
    if not policy.is_enabled or not in_send_window(policy, calendar, now):
        return 0
    today = local_date(now)
    rounds = {r.id: r for r in session.exec(select(ReportingRound).where(ReportingRound.status == RoundStatus.open))}
    if not rounds:
        return 0
    standings = {rid: standing(policy, calendar, r.due_date, today) for rid, r in rounds.items()}
    owed = _owed(session, list(rounds))
    recipients = _recipients(session, owed, standings, list(rounds))
    # a cancelled digest never went out (its day stopped being a working day, or nothing was owed any more):
    # it does not count, so the ladder under today's calendar sends what is still due, late rather than never
    last_sent = dict(session.exec(select(OutboxMessage.unit_id, sa.func.max(OutboxMessage.business_date))
                                  .where(OutboxMessage.kind == DIGEST, OutboxMessage.status != MessageStatus.cancelled)
                                  .group_by(OutboxMessage.unit_id)).all())
    due = [r for r in recipients.values()
           if r.trigger is not None and (r.unit_id not in last_sent or r.trigger > last_sent[r.unit_id])]
    if not due:
        return 0
    # each due unit's name and contact addresses in one query (a unit without contacts comes back once, with NULL)
    names: dict[int, str] = {}
    addresses: dict[int, set[str]] = defaultdict(set)
    for unit_id, name, email in session.execute(
            sa.select(Unit.id, Unit.name, Contact.email).outerjoin(Contact, Contact.unit_id == Unit.id)
            .where(Unit.id.in_([r.unit_id for r in due]))).all():
        names[unit_id] = name
        if email is not None:
            addresses[unit_id].add(email)
    sender_name, sender_address = parseaddr(sender)
    sender_name = sender_name or sender
    domain = sender_address.rpartition("@")[2] or "tracker.local"
    rows = [_message(recipient, names[recipient.unit_id], sorted(addresses[recipient.unit_id]), rounds,
                     standings, today, now, base_url, sender_name, domain) for recipient in due]
    queued = _insert_ignoring_duplicates(session, rows)
    session.commit()
    return queued


def _owed(session: Session, round_ids: list[int]) -> list[Owed]:
    outstanding = sa.or_(UnitReport.id.is_(None), UnitReport.status.in_((ReportStatus.draft, ReportStatus.returned)))
    rows = session.exec(
        select(RoundAssignment.id, RoundAssignment.round_id, RoundAssignment.task_id, RoundAssignment.unit_id,
               RoundAssignment.role, UnitReport.status, UnitReport.returned_reason, Task.key, Task.title, Unit.name)
        .join(Task, Task.id == RoundAssignment.task_id).join(Unit, Unit.id == RoundAssignment.unit_id)
        .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
        .where(RoundAssignment.round_id.in_(round_ids), outstanding)
        .order_by(RoundAssignment.round_id, Task.position, Unit.name)).all()
    return [Owed(*row) for row in rows]


def _recipients(session: Session, owed: list[Owed], standings: dict[int, Standing],
                round_ids: list[int]) -> dict[int, Recipient]:
    recipients: dict[int, Recipient] = {}

    def recipient(unit_id: int) -> Recipient:
        return recipients.setdefault(unit_id, Recipient(unit_id))

    leads: dict[tuple[int, int], list[int]] = defaultdict(list)
    for round_id, task_id, unit_id in session.exec(
            select(RoundAssignment.round_id, RoundAssignment.task_id, RoundAssignment.unit_id)
            .where(RoundAssignment.round_id.in_(round_ids), RoundAssignment.role == Role.lead)).all():
        leads[(round_id, task_id)].append(unit_id)
    overseers = sorted(set(session.exec(select(User.unit_id).where(
        User.role.in_((UserRole.office, UserRole.coordinator)), User.is_active.is_(True))).all()))
    for item in owed:
        position = standings[item.round_id]
        if position.milestone is None:
            continue
        own = recipient(item.unit_id)
        own.own.append(item)
        own.raise_trigger(position.milestone)
        if position.copy_lead_since is not None:
            for lead_id in leads[(item.round_id, item.task_id)]:
                if lead_id != item.unit_id:
                    copied = recipient(lead_id)
                    copied.copies.append(item)
                    copied.raise_trigger(position.copy_lead_since)
        if position.copy_office_since is not None:
            for overseer_id in overseers:
                if overseer_id != item.unit_id:
                    copied = recipient(overseer_id)
                    if item not in copied.copies:
                        copied.copies.append(item)
                    copied.raise_trigger(position.copy_office_since)
    return recipients


def _message(recipient: Recipient, unit_name: str, addresses: list[str], rounds: dict, standings: dict,
             today: date, now: datetime, base_url: str, sender_name: str, domain: str) -> dict:
    base = base_url.rstrip("/")
    own = _grouped(recipient.own, rounds, standings, lambda item: f"{base}/assignments/{item.assignment_id}")
    copies = _grouped(recipient.copies, rounds, standings,
                      lambda item: f"{base}/rounds/{item.round_id}/tasks/{item.task_id}")
    for group in copies:
        group.link = f"{base}/rounds/{group.round_id}"
    late = [i for i in recipient.own if standings[i.round_id].lateness > 0]
    if late:
        subject = f"【催办】{unit_name}：{len(late)} 项报送已逾期"
        intro = "贵单位有报送事项已经逾期，请尽快登录系统填报。"
    elif recipient.own:
        due_today = [i for i in recipient.own if standings[i.round_id].lateness == 0]
        subject = (f"【督办提醒】{unit_name}：今天截止报送 {len(due_today)} 项" if due_today
                   else f"【督办提醒】{unit_name}：{len(recipient.own)} 项报送即将截止")
        intro = "贵单位有以下报送事项即将截止，请按时登录系统填报。"
    else:
        late_units = {i.unit_id for i in recipient.copies}
        subject = f"【逾期抄送】{unit_name}：{len(late_units)} 个单位逾期未报"
        intro = ""
    if recipient.own and recipient.copies:
        subject += "（含逾期抄送）"
    text, html = emails.render("digest", unit_name=unit_name, own=own, copies=copies, intro=intro,
                               subject=subject, sender_name=sender_name)
    key = f"{DIGEST}:{recipient.unit_id}:{today.isoformat()}"
    status = MessageStatus.pending if addresses else MessageStatus.failed
    return dict(idempotency_key=key, kind=DIGEST, unit_id=recipient.unit_id, business_date=today, subject=subject,
                body_text=text, body_html=html, recipients=addresses, pending_recipients=addresses,
                recipient_results={}, message_id=f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>",
                assignment_ids=sorted({i.assignment_id for i in recipient.own + recipient.copies}),
                status=status, attempts=0, created_dt=now, next_attempt_dt=now,
                last_error=None if addresses else "该单位没有登记联系人邮箱，无法发送；请在单位目录中补充联系人")


@dataclass(slots=True)
class DigestEntry:
    """One line of a digest. The templates read attributes: on a dict each lookup first fails as an attribute
    (an exception) before it falls back to the key, which made rendering most of a wave's planning cost."""

    task_key: str
    task_title: str
    unit_name: str
    role_label: str
    status_label: str
    returned_reason: str | None
    lateness_label: str
    link: str


@dataclass(slots=True)
class DigestRound:
    round_id: int
    label: str
    due_date: date
    lateness_label: str
    entries: list[DigestEntry] = field(default_factory=list)
    link: str | None = None


def _grouped(items: list[Owed], rounds: dict, standings: dict, link) -> list[DigestRound]:
    groups: dict[int, DigestRound] = {}
    for item in items:
        group = groups.get(item.round_id)
        if group is None:
            reporting_round = rounds[item.round_id]
            group = groups[item.round_id] = DigestRound(
                item.round_id, reporting_round.label, reporting_round.due_date,
                emails.lateness_label(standings[item.round_id].lateness))
        group.entries.append(DigestEntry(
            item.task_key, item.task_title, item.unit_name, item.role.label, STATUS_LABELS.get(item.status, "未填报"),
            item.returned_reason, group.lateness_label, link(item)))
    return list(groups.values())


def _insert_ignoring_duplicates(session: Session, rows: list[dict]) -> int:
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING, on either database, as one executemany of one cached
    statement (a multi-VALUES statement built from the rows would be compiled afresh on every run)."""
    if not rows:
        return 0
    table = OutboxMessage.__table__
    dialect = session.get_bind().dialect.name
    insert = ((postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
              .on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(table.c.id))
    return len(session.connection().execute(insert, rows).all())
