"""Two web hosts and two schedulers against one PostgreSQL: a reporting round driven through both,
no report lost, no reminder sent twice (issue 8, stage 1 of RELIABILITY.md)."""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from datetime import date, datetime, time as clock_time, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tracker.accounts.models import User, UserRole
from tracker.accounts.services import COMMAND_LINE, hash_password
from tracker.agencies.models import Contact, Unit
from tracker.agencies.services import read_directory
from tracker.reminders.models import ReminderPolicy
from tracker.reporting.models import ReportingRound, ReportStatus, RoundAssignment, UnitReport
from tracker.tasks import importer
from tracker.time import PLAN_TZ, CalendarOverride
from tests.conftest import HOHHOT, ROOT
from tests.reminders.conftest import wait_for

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
PASSWORD = "two-hosts-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """A cookie-keeping HTTP client that reads CSRF tokens from forms, as a user's browser would."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.read().decode()

    def post(self, path: str, fields: dict, *, token_from: str | None = None) -> tuple[int, str]:
        _, page = self.get(token_from or path)
        found = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page)
        assert found, page[:3000]
        token = found.group(1)
        data = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
        with self.opener.open(self.base + path, data=data, timeout=30) as response:
            return response.status, response.read().decode()

    def login(self, username: str) -> None:
        status, page = self.post("/login", {"username": username, "password": PASSWORD})
        assert "我的待办" in page, page[:500]


@pytest.fixture
def shared_database(standalone_database):
    url, engine = standalone_database
    if engine.dialect.name != "postgresql":
        pytest.skip("two hosts share one PostgreSQL")
    return url, engine


def test_two_web_hosts_and_two_schedulers_lose_no_report_and_send_no_reminder_twice(shared_database, smtp_server,
                                                                                     tmp_path):
    url, engine = shared_database
    now = datetime.now(timezone.utc)
    today = now.astimezone(PLAN_TZ).date()
    with Session(engine) as session:
        importer.import_plan(session, HOHHOT.read_bytes(), filename="hohhot.txt", slug="hohhot",
                             directory=read_directory(ROOT / "seed" / "hohhot-units.json"), actor=COMMAND_LINE,
                             now=now)
        units = {u.name: u.id for u in session.exec(select(Unit))}
        hashed = hash_password(PASSWORD)
        people = {"office": ("市政府办公室", UserRole.office), "water": ("市水务局", UserRole.unit),
                  "bigdata": ("市大数据局", UserRole.unit), "lead": ("市工业和信息化局", UserRole.unit)}
        for username, (unit_name, role) in people.items():
            session.add(User(username=username, display_name=username, unit_id=units[unit_name], role=role,
                             email=f"{username}@hosts.test", password_hash=hashed, created_dt=now,
                             password_changed_dt=now))
        for unit_id in units.values():
            session.add(Contact(unit_id=unit_id, name="联络员", email=f"u{unit_id}@hosts.test", updated_dt=now))
        # the schedulers run on the real clock: today is a working day with an all-day window
        session.add(CalendarOverride(day=today, is_working_day=True, note="测试", updated_dt=now))
        session.add(ReminderPolicy(send_window_start=clock_time(0, 0), send_window_end=clock_time(23, 59, 59)))
        session.commit()
    env = {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_SMTP_URL": smtp_server.url,
           "TRACKER_SECRET_KEY": "shared-by-every-host", "TRACKER_INSTANCE_DIR": str(tmp_path / "instance"),
           "TRACKER_STORAGE_DIR": str(tmp_path / "shared-storage"), "TRACKER_WEB_WORKERS": "2"}
    ports = [free_port(), free_port()]
    hosts = [subprocess.Popen([str(BIN / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py"),
                               "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "wsgi:app"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    schedulers: list[subprocess.Popen] = []
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        assert all(wait_for(lambda b=b: _healthy(b), 30) for b in bases)
        office = Browser(bases[0])
        office.login("office")
        due = (today - timedelta(days=12)).isoformat()
        status, page = office.post("/rounds/new", {"plan": "hohhot", "label": "两主机调度",
                                                   "period_start": (today - timedelta(days=60)).isoformat(),
                                                   "period_end": (today - timedelta(days=20)).isoformat(),
                                                   "due_date": due})
        with Session(engine) as session:
            reporting_round = session.exec(select(ReportingRound).where(ReportingRound.label == "两主机调度")).one()
            mine = {name: session.exec(select(RoundAssignment.id).where(
                RoundAssignment.round_id == reporting_round.id,
                RoundAssignment.unit_id == units[name])).all() for name in ("市水务局", "市大数据局")}
        for index, (username, name) in enumerate((("water", "市水务局"), ("bigdata", "市大数据局"))):
            browser = Browser(bases[index % 2])  # each unit on a different host
            browser.login(username)
            for assignment_id in mine[name]:
                browser.post(f"/assignments/{assignment_id}", {"progress_text": f"{name}已完成阶段任务", "submit_report": "报送"})
        with Session(engine) as session:
            submitted = session.exec(select(UnitReport).where(UnitReport.round_id == reporting_round.id,
                                                              UnitReport.status == ReportStatus.submitted)).all()
        assert sorted(r.assignment_id for r in submitted) == sorted(mine["市水务局"] + mine["市大数据局"])
        logs = [tmp_path / f"scheduler-{n}.log" for n in range(2)]
        schedulers = [subprocess.Popen([str(BIN / "tracker"), "scheduler"], env=env, stdout=log.open("w"),
                                       stderr=subprocess.STDOUT) for log in logs]
        with Session(engine) as session:
            owing = set(session.exec(select(RoundAssignment.unit_id).outerjoin(
                UnitReport, UnitReport.assignment_id == RoundAssignment.id).where(
                RoundAssignment.round_id == reporting_round.id, UnitReport.id.is_(None))).all())
        assert wait_for(lambda: len(smtp_server.handler.messages) >= len(owing), 120), (
            len(smtp_server.handler.messages), len(owing), [log.read_text()[-3000:] for log in logs])
        assert not wait_for(lambda: len(smtp_server.handler.messages) > len(owing) + 2, 5)
    finally:
        for process in schedulers + hosts:
            process.terminate()
        for process in schedulers + hosts:
            process.wait(timeout=30)
    recipients = Counter(address for _, to, _ in smtp_server.handler.messages for address in to)
    assert max(recipients.values()) == 1, recipients
    assert not {f"u{units['市水务局']}@hosts.test", f"u{units['市大数据局']}@hosts.test"} & set(recipients)
    with Session(engine) as session:
        assert len(session.exec(select(UnitReport).where(UnitReport.round_id == reporting_round.id)).all()) == len(submitted)


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
