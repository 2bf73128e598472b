"""A SQLite writer killed in the middle of a transaction leaves a sound database with every committed report."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.slow

WRITER = textwrap.dedent("""
    import sys, time
    from datetime import datetime, timezone
    import sqlalchemy as sa
    from tracker.db import make_engine
    engine = make_engine(sys.argv[1])
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:                  # committed: these must survive
        for n in range(20):
            connection.execute(sa.text("INSERT INTO units (name, kind, is_active, is_in_directory, created_dt) "
                                       "VALUES (:name, 'department', 1, 1, :now)"), {"name": f"已提交{n}", "now": now})
    print("committed", flush=True)
    connection = engine.connect()
    transaction = connection.begin()                  # never committed: killed while writing
    n = 0
    while True:
        connection.execute(sa.text("INSERT INTO units (name, kind, is_active, is_in_directory, created_dt) "
                                   "VALUES (:name, 'department', 1, 1, :now)"), {"name": f"未提交{n}", "now": now})
        n += 1
        if n == 500:
            print("writing", flush=True)
""")


def test_a_sqlite_writer_killed_mid_transaction_leaves_integrity_and_committed_rows(standalone_database, tmp_path):
    url, engine = standalone_database
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite fault")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    writer = subprocess.Popen([sys.executable, str(script), url], stdout=subprocess.PIPE, text=True,
                              cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert writer.stdout.readline().strip() == "committed"
    assert writer.stdout.readline().strip() == "writing"
    time.sleep(0.2)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    engine.dispose()
    with engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
        names = connection.execute(sa.text("SELECT name FROM units")).scalars().all()
    assert sorted(n for n in names if n.startswith("已提交")) == sorted(f"已提交{n}" for n in range(20))
    assert not any(n.startswith("未提交") for n in names)


# --- the app's own writes: units submitting reports, killed at arbitrary moments, five times ----------------

REPORTER = textwrap.dedent("""
    import sys
    from datetime import datetime, timezone
    from sqlmodel import Session, select
    from tracker.accounts.models import User
    from tracker.db import make_engine, write_lock_first
    from tracker.reporting.models import RoundAssignment, UnitReport
    from tracker.reporting.services import reports
    engine = make_engine(sys.argv[1])
    now = datetime.now(timezone.utc)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "water")).one()
        todo = session.exec(select(RoundAssignment.id).outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
                            .where(UnitReport.id.is_(None)).order_by(RoundAssignment.id)).all()
        session.commit()
        print("ready", flush=True)
        for assignment_id in todo:
            write_lock_first(session)
            view = reports.get_assignment(session, assignment_id, actor=user)
            reports.save_report(session, view, progress_text=f"第{assignment_id}项：已完成", values={}, submit=True,
                                actor=user, now=now)      # report, audit line and task lights in one commit
            print(assignment_id, flush=True)              # said only after the commit returned
""")


def _seed_reports_world(engine, tasks: int) -> None:
    from datetime import date

    from sqlmodel import Session

    from tracker.accounts.models import User, UserRole
    from tracker.accounts.services import COMMAND_LINE
    from tracker.agencies.models import Unit
    from tracker.reporting.services import rounds
    from tracker.tasks.models import Plan, Role, Task, TaskAssignment, TaskLevel
    from tests.conftest import NOW
    from tests.factories import _TEST_HASH

    with Session(engine) as session:
        plan = Plan(slug="p", title="计划", source_sha256="0" * 64, imported_dt=NOW, updated_dt=NOW,
                    start_year=2021, end_year=2025)
        unit = Unit(name="市水务局", created_dt=NOW)
        session.add_all([plan, unit])
        session.flush()
        for n in range(tasks):
            task = Task(plan_id=plan.id, key=f"1.{n}", level=TaskLevel.clause, number=n + 1, label="（一）",
                        title=f"任务{n}", text="任务。", line=n + 1, position=n)
            session.add(task)
            session.flush()
            session.add(TaskAssignment(task_id=task.id, unit_id=unit.id, role=Role.lead, position=0))
        session.add(User(username="water", display_name="水务", unit_id=unit.id, role=UserRole.unit, email="w@x.cn",
                         password_hash=_TEST_HASH, created_dt=NOW, password_changed_dt=NOW))
        session.commit()
        rounds.open_round(session, plan, label="调度", period_start=date(2025, 7, 1), period_end=date(2025, 9, 30),
                          due_date=date(2030, 10, 10), actor=COMMAND_LINE, now=NOW)


def test_units_submitting_reports_killed_five_times_keep_integrity_and_every_committed_report(
        standalone_database, tmp_path):
    """After each kill: `PRAGMA integrity_check` and `foreign_key_check` are clean; every report the writer
    saw committed is there, whole (submitted, its text, its one audit line); at most one more (committed, then
    killed before it could say so); no audit line without its report."""
    import random

    url, engine = standalone_database
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite fault: PostgreSQL's own crash safety is not the app's to test")
    _seed_reports_world(engine, tasks=300)
    script = tmp_path / "reporter.py"
    script.write_text(REPORTER)
    said_committed: set[int] = set()
    chance = random.Random(20251111)
    for kill in range(5):
        writer = subprocess.Popen([sys.executable, str(script), url], stdout=subprocess.PIPE, text=True,
                                  cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
        assert writer.stdout.readline().strip() == "ready"
        for _ in range(chance.randint(3, 12)):
            said_committed.add(int(writer.stdout.readline()))
        time.sleep(chance.uniform(0, 0.02))  # somewhere inside the next report's transaction or its commit
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        said_committed.update(int(line) for line in writer.stdout.read().split())
        engine.dispose()
        with engine.connect() as connection:
            assert connection.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok", kill
            assert connection.execute(sa.text("PRAGMA foreign_key_check")).all() == [], kill
            present = dict(connection.execute(sa.text(
                "SELECT assignment_id, status || ' ' || progress_text FROM unit_reports")).all())
            audited = connection.execute(sa.text(
                "SELECT target_id, count(*) FROM audit_events WHERE action = 'report.submitted' GROUP BY target_id"
            )).all()
            report_ids = dict(connection.execute(sa.text("SELECT id, assignment_id FROM unit_reports")).all())
        assert said_committed <= set(present), (kill, said_committed - set(present))
        assert len(set(present) - said_committed) <= 1, kill
        assert all(text == f"submitted 第{assignment}项：已完成" for assignment, text in present.items())
        assert sorted(report_ids) == sorted(target for target, count in audited if count == 1)
        assert len(audited) == len(report_ids)
    assert len(present) >= 15  # the kills landed while real work was being done
