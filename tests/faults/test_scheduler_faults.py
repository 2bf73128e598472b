"""Scheduler faults from RELIABILITY.md: killed mid-batch (three times, once deliberately between the server's
acceptance and our commit), and down at the moment reminders were due (late, not never)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time as clock
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tracker.reminders import services
from tracker.reminders.mailer import MailboxMailer
from tracker.reminders.models import MessageStatus, OutboxMessage, ReminderPolicy
from tracker.time import PLAN_TZ, CalendarOverride, WorkingCalendar
from tests.reminders.conftest import BASE_URL, SENDER, beijing, wait_for

TRACKER = str(Path(sys.executable).with_name("tracker"))


# --- killed mid-batch ------------------------------------------------------------------------------------

def _environment(url: str, smtp_url: str, tmp_path: Path) -> dict:
    return {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_SMTP_URL": smtp_url,
            "TRACKER_INSTANCE_DIR": str(tmp_path / "instance"), "TRACKER_SECRET_KEY": "faults-test",
            "TRACKER_SMTP_TIMEOUT_SECONDS": "5"}


def _run_once(env: dict, moment: datetime) -> subprocess.Popen:
    return subprocess.Popen([TRACKER, "reminders", "run-once", "--now", moment.isoformat()], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _in_the_window(engine, server) -> set[str]:
    """Messages the server holds whose row is not committed as sent: the 250-before-commit window."""
    clock.sleep(0.5)  # let the server finish a DATA the dead client had already sent
    received = {m["Message-ID"] for m in server.handler.parsed()}
    with Session(engine) as session:
        sent = set(session.exec(select(OutboxMessage.message_id).where(OutboxMessage.status == MessageStatus.sent)))
    return received - sent


@pytest.mark.slow
def test_a_scheduler_killed_mid_batch_three_times_loses_nothing_and_duplicates_at_most_one_per_kill(
        standalone_database, smtp_server, tmp_path):
    """80 due messages (more than one batch). Kill 1: the real `tracker scheduler`, at the instant the server
    has stored message 12 but not yet answered 250 — the one window a duplicate may come from. Kills 2 and 3:
    `run-once` passes (six minutes later each, past the dead sender's lease) killed at arbitrary moments. A
    last pass finishes. Every message arrives; the duplicates are exactly the messages caught in a window, at
    most one per kill; every row ends sent."""
    url, engine = standalone_database
    now = datetime.now(timezone.utc)
    with Session(engine) as session:
        for day in {now.astimezone(PLAN_TZ).date() + timedelta(days=n) for n in range(2)}:
            session.add(CalendarOverride(day=day, is_working_day=True, note="测试", updated_dt=now))
        session.add(ReminderPolicy(is_enabled=False, send_window_start=time(0, 0), send_window_end=time(23, 59, 59)))
        for n in range(80):
            session.add(OutboxMessage(idempotency_key=f"kill:{n}", kind="test", business_date=now.astimezone(PLAN_TZ).date(),
                                      subject=f"第 {n} 封", body_text="正文", body_html="<p>正文</p>",
                                      recipients=[f"k{n}@units.test"], pending_recipients=[f"k{n}@units.test"],
                                      message_id=f"<k{n}@tracker.test>", created_dt=now,
                                      next_attempt_dt=now - timedelta(days=1)))  # due while nothing ran
        session.commit()
    handler = smtp_server.handler
    handler.delay = 0.05
    env = _environment(url, smtp_server.url, tmp_path)
    windows: list[set[str]] = []

    # kill 1: the scheduler, between the server storing message 12 and its 250 reaching our commit
    victim: dict[str, subprocess.Popen] = {}
    stored_then_killed: list[str] = []
    accept = handler.handle_DATA

    async def kill_before_answering(server, session, envelope):
        answer = await accept(server, session, envelope)
        if len(handler.messages) == 12 and not stored_then_killed:
            stored_then_killed.append(handler.parsed()[-1]["Message-ID"])
            os.kill(victim["scheduler"].pid, signal.SIGKILL)
        return answer

    handler.handle_DATA = kill_before_answering
    victim["scheduler"] = subprocess.Popen([TRACKER, "scheduler"], env=env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
    try:
        assert victim["scheduler"].wait(timeout=60) == -signal.SIGKILL
    finally:
        if victim["scheduler"].poll() is None:
            victim["scheduler"].kill()
    del handler.handle_DATA  # later connections get the plain handler
    windows.append(_in_the_window(engine, smtp_server))
    assert windows[0] == set(stored_then_killed)  # exactly the message stored and not yet committed

    # kills 2 and 3: run-once passes after the previous sender's lease, killed wherever they are
    for kill, minutes in ((2, 6), (3, 12)):
        before = len(handler.messages)
        process = _run_once(env, now + timedelta(minutes=minutes))
        assert wait_for(lambda: len(handler.messages) >= before + 10, 60), process.communicate()[1][-2000:]
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        window = _in_the_window(engine, smtp_server) - set().union(*windows)
        assert len(window) <= 1, (kill, window)
        windows.append(window)

    survivor = _run_once(env, now + timedelta(minutes=18))
    out, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err[-2000:]

    ids = Counter(m["Message-ID"] for m in handler.parsed())
    assert set(ids) == {f"<k{n}@tracker.test>" for n in range(80)}  # nothing lost
    duplicated = {message_id for message_id, count in ids.items() if count > 1}
    assert duplicated == set().union(*windows)  # only what a kill caught between 250 and commit
    assert sum(count - 1 for count in ids.values()) <= len(windows)  # at most one per kill
    with Session(engine) as session:
        assert {r.status for r in session.exec(select(OutboxMessage))} == {MessageStatus.sent}


# --- down at the moment a reminder was due ---------------------------------------------------------------

#: the round is due Friday 2025-11-14: 督办提醒 on Tue 11-11 and on the due date, 催办 from Mon 11-17
OUTAGES = {
    "missed_the_reminder_three_days_before": (date(2025, 11, 10), date(2025, 11, 12), "【督办提醒】"),
    "missed_the_due_date_reminder_too": (date(2025, 11, 10), date(2025, 11, 17), "【催办】"),
    "missed_a_week_of_the_ladder": (date(2025, 11, 10), date(2025, 11, 21), "【催办】"),
}


@pytest.mark.parametrize("outage", OUTAGES, ids=list(OUTAGES))
def test_a_scheduler_down_when_reminders_were_due_sends_them_late_not_never(session, reminder_world, tmp_path, outage):
    """Ticks at 09:00 and 15:00 on every working day from Monday 11-10 to 12-05, except during the outage.
    The first tick after it reminds every owing unit once with the latest step of the ladder; the ladder goes
    on after; over the whole history no unit gets two messages a day and every milestone is covered."""
    down_from, back_on, subject = OUTAGES[outage]
    calendar = WorkingCalendar()
    owing = {reminder_world.lead.id, reminder_world.first.id, reminder_world.second.id}
    mailbox = tmp_path / "mailbox"
    day, sent_on = date(2025, 11, 10), {}
    while day <= date(2025, 12, 5):
        if calendar.is_working_day(day) and not down_from <= day < back_on:
            for hour in (9, 15):
                services.run_once(session, now=beijing(day.year, day.month, day.day, hour),
                                  mailer=MailboxMailer(mailbox), base_url=BASE_URL, sender=SENDER)
            sent_on[day] = {r.unit_id: r for r in session.exec(select(OutboxMessage).where(
                OutboxMessage.business_date == day))}
        day += timedelta(days=1)
    rows = session.exec(select(OutboxMessage)).all()
    assert all(r.status is MessageStatus.sent for r in rows)
    assert not any(down_from <= r.business_date < back_on for r in rows)  # nothing pretends to have gone out
    per_day = Counter((r.unit_id, r.business_date) for r in rows)
    assert max(per_day.values()) == 1
    first_back = sent_on[back_on]
    assert owing <= set(first_back)  # late, not never: every owing unit at the first tick back
    assert all(first_back[unit].subject.startswith(subject) for unit in owing)
    assert all(first_back[unit].created_dt == beijing(back_on.year, back_on.month, back_on.day, 9) for unit in owing)
    # the ladder goes on: each owing unit is chased again on the next chase day after the outage
    later_chases = {r.unit_id for r in rows if r.business_date > max(back_on, date(2025, 11, 17))
                    and r.subject.startswith("【催办】")}
    assert owing <= later_chases
    assert len(list(mailbox.rglob("*.eml"))) == len(rows)
