"""The working-day calendar changed after reminders were planned: the keys (one digest per unit per working day)
are recomputed under the new calendar, and a reminder cancelled by the change never goes out."""
from __future__ import annotations

from collections import Counter
from datetime import date

from sqlmodel import select

from tracker.accounts.services import COMMAND_LINE
from tracker.reminders import planner, services
from tracker.reminders.models import MessageStatus, OutboxMessage
from tracker.time import load_calendar
from tests.reminders.conftest import BASE_URL, SENDER, beijing

NOVEMBER = [date(2025, 11, day) for day in range(10, 29)]


def run(session, smtp_server, day: date, hour: int = 9, minute: int = 0):
    return services.run_once(session, now=beijing(day.year, day.month, day.day, hour, minute),
                             mailer=smtp_server.mailer(), base_url=BASE_URL, sender=SENDER)


def declare(session, day: date, *, working: bool, note: str, at):
    services.set_override(session, day=day, is_working_day=working, note=note, actor=COMMAND_LINE, now=at)


def check_history(session, smtp_server) -> list[OutboxMessage]:
    """Over everything the outbox and the server saw: a cancelled message never reached the server; every
    delivered message is for a working day of the final calendar; a unit gets at most one message a day."""
    rows = session.exec(select(OutboxMessage)).all()
    calendar = load_calendar(session)
    received = Counter(m["Message-ID"] for m in smtp_server.handler.parsed())
    cancelled = {r.message_id for r in rows if r.status is MessageStatus.cancelled}
    assert not cancelled & set(received)
    assert max(received.values(), default=0) <= 1
    delivered = [r for r in rows if r.message_id in received]
    assert all(r.status is MessageStatus.sent for r in delivered)
    assert all(calendar.is_working_day(r.business_date) for r in delivered)
    assert max(Counter((r.unit_id, r.business_date) for r in rows).values()) == 1
    assert all(r.idempotency_key == f"digest:{r.unit_id}:{r.business_date.isoformat()}" for r in rows)
    return rows


def test_a_day_declared_off_after_planning_cancels_its_reminders_and_the_next_working_day_sends_them(
        session, reminder_world, smtp_server):
    """Planned on Tuesday 11-11 at 09:00; the office declares 11-11 a day off at 09:01, before the sender runs.
    Those three digests are cancelled and never go out; under the new calendar the "three working days before"
    reminder fell on Monday 11-10, already past, so it goes out late — on Wednesday 11-12 under a new key —
    rather than never; the ladder then goes on under the new calendar."""
    owing = {reminder_world.lead.id, reminder_world.first.id, reminder_world.second.id}
    tuesday, wednesday = date(2025, 11, 11), date(2025, 11, 12)
    assert planner.plan_reminders(session, now=beijing(2025, 11, 11, 9), base_url=BASE_URL, sender=SENDER) == 3
    declare(session, tuesday, working=False, note="临时放假", at=beijing(2025, 11, 11, 9, 1))
    assert run(session, smtp_server, tuesday, 9, 2).sending.sent == 0  # not a working day any more: nothing sent
    passes = [run(session, smtp_server, wednesday, 9, minute) for minute in (0, 5)]  # planning ticks every 5 min
    assert sum(p.sending.cancelled for p in passes) == 3
    assert sum(p.queued for p in passes) == 3 and sum(p.sending.sent for p in passes) == 3
    rows = {(r.unit_id, r.business_date): r for r in session.exec(select(OutboxMessage))}
    assert all(rows[(unit, tuesday)].status is MessageStatus.cancelled for unit in owing)
    assert all(rows[(unit, wednesday)].status is MessageStatus.sent
               and rows[(unit, wednesday)].subject.startswith("【督办提醒】") for unit in owing)
    for day in NOVEMBER:
        if day > wednesday:
            for hour in (9, 15):
                run(session, smtp_server, day, hour)
    rows = check_history(session, smtp_server)
    reminded = {r.unit_id for r in rows if r.status is MessageStatus.sent and r.business_date < date(2025, 11, 14)}
    assert owing <= reminded  # every owing unit was reminded before its due date despite the change


def test_a_reminder_still_waiting_for_the_server_is_cancelled_when_its_day_is_declared_off(
        session, reminder_world, smtp_server):
    """The server refuses with 451 on 11-11, so the digests wait in the outbox; the office then declares 11-11 a
    day off. At their retry they are cancelled, not sent; the next working day plans them again under new keys."""
    owing = {reminder_world.lead.id, reminder_world.first.id, reminder_world.second.id}
    smtp_server.handler.data_answers.extend(["451 4.3.0 try again later"] * 3)
    assert run(session, smtp_server, date(2025, 11, 11)).sending.retried == 3
    declare(session, date(2025, 11, 11), working=False, note="临时放假", at=beijing(2025, 11, 11, 9, 1))
    passes = [run(session, smtp_server, date(2025, 11, 12), 9, minute) for minute in (0, 5)]
    assert sum(p.sending.cancelled for p in passes) == 3 and sum(p.sending.sent for p in passes) == 3
    for day in NOVEMBER:
        if day > date(2025, 11, 12):
            run(session, smtp_server, day)
    rows = check_history(session, smtp_server)
    assert {r.unit_id for r in rows if r.status is MessageStatus.cancelled} == owing


def test_a_make_up_saturday_declared_after_planning_gets_its_own_key_and_moves_the_ladder(
        session, reminder_world, smtp_server):
    """After the due-date reminders of Friday 11-14, the office declares Saturday 11-15 a working day (调休).
    Lateness is counted in the new working days: the first 催办 goes out on the Saturday, keyed 2025-11-15,
    and the lead unit is copied from the third working day late — Tuesday 11-18, a day earlier than before."""
    owing = {reminder_world.lead.id, reminder_world.first.id, reminder_world.second.id}
    run(session, smtp_server, date(2025, 11, 14))
    declare(session, date(2025, 11, 15), working=True, note="调休上班", at=beijing(2025, 11, 14, 10))
    for day in NOVEMBER:
        if day >= date(2025, 11, 15):
            run(session, smtp_server, day)
    rows = check_history(session, smtp_server)
    saturday = {r.unit_id: r for r in rows if r.business_date == date(2025, 11, 15)}
    assert owing <= set(saturday) and all(saturday[u].subject.startswith("【催办】") for u in owing)
    assert all(saturday[u].idempotency_key == f"digest:{u}:2025-11-15" for u in owing)
    lead_copied = sorted(r.business_date for r in rows if r.unit_id == reminder_world.lead.id and "抄送" in r.subject)
    assert lead_copied and lead_copied[0] == date(2025, 11, 18)
