"""PostgreSQL restarts while a unit submits a report with an upload: the request fails cleanly or
commits fully, no file is left without its row, and the pool recovers for the next request."""
from __future__ import annotations

import glob
import subprocess
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from config import TestConfig
from tracker import create_app
from tracker.accounts.models import User, UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies.models import Unit
from tracker.db import Database, make_engine
from tracker.reporting.models import Attachment, RoundAssignment
from tracker.reporting.services import reports, rounds
from tracker.tasks.models import Plan, Role, Task, TaskAssignment, TaskLevel
from tests.conftest import NOW
from tests.factories import _TEST_HASH
from tests.reminders.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.pg_restart]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def restart_postgresql() -> None:
    version = Path(glob.glob("/etc/postgresql/*")[0]).name
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
                   check=True, capture_output=True)


def _reachable(engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.OperationalError:
        return False


def test_a_database_restart_during_an_upload_leaves_no_orphan_file_and_the_pool_recovers(
        standalone_database, tmp_path, monkeypatch):
    url, engine = standalone_database
    if engine.dialect.name != "postgresql":
        pytest.skip("restarting the PostgreSQL cluster")
    with Session(engine) as session:
        plan = Plan(slug="p", title="计划", source_sha256="0" * 64, imported_dt=NOW, updated_dt=NOW,
                    start_year=2021, end_year=2025)
        unit = Unit(name="市水务局", created_dt=NOW)
        session.add_all([plan, unit])
        session.flush()
        task = Task(plan_id=plan.id, key="1.1", level=TaskLevel.clause, number=1, label="（一）", title="任务",
                    text="任务。", line=1, position=0)
        session.add(task)
        session.flush()
        session.add(TaskAssignment(task_id=task.id, unit_id=unit.id, role=Role.lead, position=0))
        user = User(username="water", display_name="水务", unit_id=unit.id, role=UserRole.unit, email="w@x.cn",
                    password_hash=_TEST_HASH, created_dt=NOW, password_changed_dt=NOW)
        session.add(user)
        session.commit()
        rounds.open_round(session, plan, label="调度", period_start=date(2025, 7, 1), period_end=date(2025, 9, 30),
                          due_date=date(2030, 10, 10), actor=COMMAND_LINE, now=NOW)
        assignment_id = session.exec(select(RoundAssignment.id)).one()
        user_id = user.get_id()

    class Config(TestConfig):
        DATABASE_URL = url
        INSTANCE_DIR = tmp_path
        STORAGE_DIR = tmp_path / "storage"

    app = create_app(Config, database=Database(make_engine(url)))
    client = app.test_client()
    with client.session_transaction() as cookie:
        from tracker import time
        cookie["_user_id"], cookie["_fresh"] = user_id, True
        cookie["login_dt"] = cookie["seen_dt"] = time.now().isoformat()
    assert client.get(f"/assignments/{assignment_id}").status_code == 200

    real_write = reports._write_whole

    def write_then_lose_the_database(path, data):
        real_write(path, data)
        restart_postgresql()  # the file is on disk; the row is not yet committed

    monkeypatch.setattr(reports, "_write_whole", write_then_lose_the_database)
    response = client.post(f"/assignments/{assignment_id}/attachments",
                           data={"file": (__import__("io").BytesIO(PDF), "督查报告.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code in (302, 503)
    monkeypatch.setattr(reports, "_write_whole", real_write)
    assert wait_for(lambda: _reachable(engine), 30)
    stored = sorted(p for p in (tmp_path / "storage").rglob("*") if p.is_file())
    with Session(engine) as session:
        rows = session.exec(select(Attachment)).all()
    if response.status_code == 503:
        assert "数据库暂时不可用" in response.get_data(as_text=True) and "Traceback" not in response.get_data(as_text=True)
        assert rows == [] and stored == []  # failed cleanly: no row, no orphan file
    else:
        assert len(rows) == 1 and len(stored) == 1  # committed fully
    again = client.post(f"/assignments/{assignment_id}/attachments",
                        data={"file": (__import__("io").BytesIO(PDF), "第二份.pdf")}, content_type="multipart/form-data")
    assert again.status_code == 302  # the pool recovered
    with Session(engine) as session:
        assert len(session.exec(select(Attachment)).all()) == len(rows) + 1
