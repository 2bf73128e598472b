"""Reminders across real processes: concurrent passes, a sender killed mid-batch, two schedulers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from tracker.accounts.models import User, UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies.models import Contact, Unit
from tracker.db import make_engine
from tracker.reminders.models import MessageStatus, OutboxMessage, ReminderPolicy
from tracker.reporting.services import rounds
from tracker.tasks.models import Plan, Role, Task, TaskAssignment, TaskLevel
from tracker.time import PLAN_TZ, CalendarOverride, WorkingCalendar
from tests.conftest import NOW
from tests.reminders.conftest import wait_for

pytestmark = pytest.mark.slow
TRACKER = str(Path(sys.executable).with_name("tracker"))


def environment(url: str, smtp_url: str, tmp_path: Path) -> dict:
    return {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_SMTP_URL": smtp_url,
            "TRACKER_INSTANCE_DIR": str(tmp_path / "instance"), "TRACKER_SECRET_KEY": "processes-test",
            "TRACKER_SMTP_TIMEOUT_SECONDS": "5"}


def seed_round(engine, units: int = 6) -> tuple[int, list[int]]:
    """A plan whose one task is owed by `units` units with a contact each; a round due 2025-11-14."""
    with Session(engine) as session:
        plan = Plan(slug="p", title="计划", source_sha256="0" * 64, imported_dt=NOW, updated_dt=NOW,
                    start_year=2021, end_year=2025)
        session.add(plan)
        session.flush()
        task = Task(plan_id=plan.id, key="1.1", level=TaskLevel.clause, number=1, label="（一）", title="任务",
                    text="任务。", line=1, position=0)
        session.add(task)
        session.flush()
        made = [Unit(name=f"市单位{n}", created_dt=NOW) for n in range(units)]
        session.add_all(made)
        session.flush()
        for index, unit in enumerate(made):
            session.add(TaskAssignment(task_id=task.id, unit_id=unit.id, position=index,
                                       role=Role.lead if index == 0 else Role.responsible))
            session.add(Contact(unit_id=unit.id, name="联络员", email=f"u{unit.id}@units.test", updated_dt=NOW))
        session.commit()
        rounds.open_round(session, plan, label="2025年10月调度", period_start=date(2025, 10, 1),
                          period_end=date(2025, 10, 31), due_date=date(2025, 11, 14), actor=COMMAND_LINE, now=NOW)
        return plan.id, [u.id for u in made]


def run_once(env: dict, moment: datetime) -> subprocess.Popen:
    return subprocess.Popen([TRACKER, "reminders", "run-once", "--now", moment.isoformat()], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_run_once_processes_started_together_ten_times_never_send_a_unit_two_messages_a_day(
        standalone_database, smtp_server, tmp_path):
    url, engine = standalone_database
    seed_round(engine)
    env = environment(url, smtp_server.url, tmp_path)
    calendar = WorkingCalendar()
    days = [date(2025, 11, 11), date(2025, 11, 14)] + [calendar.add_working_days(date(2025, 11, 14), n)
                                                        for n in (1, 3, 5, 7, 9, 11, 13, 15)]
    for day in days:
        before = len(smtp_server.handler.messages)
        moment = datetime.combine(day, time(9, 0), PLAN_TZ)
        pair = [run_once(env, moment), run_once(env, moment)]
        outputs = [p.communicate(timeout=60) for p in pair]
        assert all(p.returncode == 0 for p in pair), [o[1][-2500:] for o in outputs]
        today = smtp_server.handler.messages[before:]
        recipients = Counter(address for _, to, _ in today for address in to)
        assert today and max(recipients.values()) == 1, (day, recipients)
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
        assert all(r.status is MessageStatus.sent for r in rows)
        assert len(rows) == len(smtp_server.handler.messages)


def test_a_sender_killed_mid_batch_loses_nothing_and_duplicates_at_most_one(standalone_database, smtp_server, tmp_path):
    url, engine = standalone_database
    _, unit_ids = seed_round(engine, units=2)
    moment = datetime(2025, 11, 11, 9, 0, tzinfo=PLAN_TZ)
    with Session(engine) as session:
        for n in range(30):
            key = f"test:{n}"
            session.add(OutboxMessage(idempotency_key=key, kind="test", unit_id=unit_ids[0], business_date=moment.date(),
                                      subject=f"第 {n} 封", body_text="正文", body_html="<p>正文</p>",
                                      recipients=[f"r{n}@units.test"], pending_recipients=[f"r{n}@units.test"],
                                      message_id=f"<m{n}@tracker.test>", created_dt=NOW,
                                      next_attempt_dt=NOW - timedelta(days=30)))
        session.add(ReminderPolicy(is_enabled=False))  # only the rows above are to be sent
        session.commit()
    smtp_server.handler.delay = 0.15
    env = environment(url, smtp_server.url, tmp_path)
    victim = run_once(env, moment)
    assert wait_for(lambda: len(smtp_server.handler.messages) >= 8, 30)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    delivered_before = len(smtp_server.handler.messages)
    assert delivered_before < 30
    survivor = run_once(env, moment + timedelta(minutes=6))  # after the killed sender's lease
    assert survivor.wait(timeout=60) == 0
    ids = Counter(m["Message-ID"] for m in smtp_server.handler.parsed())
    assert set(ids) == {f"<m{n}@tracker.test>" for n in range(30)}
    assert sum(count - 1 for count in ids.values()) <= 1
    with Session(engine) as session:
        assert {r.status for r in session.exec(select(OutboxMessage))} == {MessageStatus.sent}


def test_two_schedulers_at_once_send_every_due_message_exactly_once(standalone_database, smtp_server, tmp_path):
    url, engine = standalone_database
    _, unit_ids = seed_round(engine, units=2)
    now = datetime.now(timezone.utc)
    today = now.astimezone(PLAN_TZ).date()
    with Session(engine) as session:
        session.add(CalendarOverride(day=today, is_working_day=True, note="测试", updated_dt=now))
        session.add(ReminderPolicy(is_enabled=False, send_window_start=time(0, 0), send_window_end=time(23, 59, 59)))
        for n in range(20):
            session.add(OutboxMessage(idempotency_key=f"sched:{n}", kind="test", unit_id=unit_ids[0], business_date=today,
                                      subject=f"第 {n} 封", body_text="正文", body_html="<p>正文</p>",
                                      recipients=[f"s{n}@units.test"], pending_recipients=[f"s{n}@units.test"],
                                      message_id=f"<s{n}@tracker.test>", created_dt=now, next_attempt_dt=now))
        session.commit()
    env = environment(url, smtp_server.url, tmp_path)
    schedulers = [subprocess.Popen([TRACKER, "scheduler"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        assert wait_for(lambda: len(smtp_server.handler.messages) >= 20, 45)
        assert not wait_for(lambda: len(smtp_server.handler.messages) > 20, 3)
    finally:
        for process in schedulers:
            process.terminate()
            process.wait(timeout=20)
    assert Counter(m["Message-ID"] for m in smtp_server.handler.parsed()) == Counter(
        {f"<s{n}@tracker.test>": 1 for n in range(20)})
