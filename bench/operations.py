"""Each benchmarked operation: the app's time and its floor, measured in the same run."""
from __future__ import annotations

import re
import smtplib
import time
from dataclasses import asdict, dataclass
from datetime import datetime, time as clock_time
from pathlib import Path

from flask import Flask

from bench.measure import captured_sql, interleaved, replay, timed

ROOT = Path(__file__).resolve().parent.parent
HOHHOT = ROOT / "seed" / "hohhot-energy-saving-2021-2025.txt"


@dataclass
class Result:
    name: str
    scale: str
    database: str
    app_ms: float
    floor_ms: float
    ratio: float
    goal: float
    queries: int

    @property
    def passed(self) -> bool:
        return self.ratio <= self.goal

    def as_json(self) -> dict:
        return asdict(self)


TRIVIAL_PATH = "/bench/trivial"


def add_trivial_route(app: Flask) -> None:
    """A route that returns "ok" inside the app, behind everything every page pays for (the session cookie,
    loading the logged-in user, the timeouts, the security headers) and nothing a page chooses to do."""
    app.add_url_rule(TRIVIAL_PATH, "bench_trivial", lambda: "ok")


def logged_in_client(app, username: str, password: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token.group(1) if token else ""})
    if response.status_code != 302:
        raise RuntimeError(f"bench login as {username} failed: {response.status_code}")
    return client


def page(app, engine, client, name: str, path: str, scale: str, database: str, goal: float = 5.0) -> Result:
    """App time of a page through the test client against the trivial route plus the page's own SQL."""
    def get():
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{name} {path} answered {response.status_code}")
    get()
    with captured_sql(engine) as statements:
        get()

    def trivial():
        if client.get(TRIVIAL_PATH).status_code != 200:
            raise RuntimeError("trivial route failed")
    timings = interleaved({"app": get, "sql": lambda: replay(engine, statements), "trivial": trivial})
    app_ms = timings["app"].best_ms
    floor = timings["trivial"].best_ms + timings["sql"].best_ms
    return Result(name, scale, database, round(app_ms, 3), round(floor, 3), round(app_ms / floor, 3), goal,
                  len(statements))


def dashboard_p95(client, path: str) -> float:
    return timed(lambda: client.get(path), runs=40).p95_ms


def login(app, username: str, password: str, scale: str, database: str) -> Result:
    """Logging in against one Argon2id verify of the same password."""
    from tracker.accounts.services import HASHER, hash_password
    stored = hash_password(password)

    def log_in():
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": password})
        if response.status_code != 302:
            raise RuntimeError(f"login answered {response.status_code}")
    timings = interleaved({"app": log_in, "floor": lambda: HASHER.verify(stored, password)}, runs=30)
    app_ms, floor = timings["app"].best_ms, timings["floor"].best_ms
    return Result("login", scale, database, round(app_ms, 3), round(floor, 3), round(app_ms / floor, 3), 2.0, 0)


def plan_import(app, engine, scale: str, database: str) -> Result:
    """A full import (parse, resolve, write, in a transaction rolled back) against reading the file and
    splitting it into its paragraphs with page breaks rejoined."""
    from sqlmodel import Session

    from tracker.accounts.services import COMMAND_LINE
    from tracker.agencies.services import read_directory
    from tracker.tasks import importer
    from tracker.agencies.services import merge_directory
    from tracker.tasks.parsing.repair import repair
    directory = read_directory(ROOT / "seed" / "hohhot-units.json")
    with Session(engine) as session:  # the directory is loaded once, as `tracker units load` does
        merge_directory(session, directory, now=datetime.now().astimezone())
        session.commit()

    def floor_run():
        repair(HOHHOT.read_bytes().decode("utf-8"))

    def app_run():
        with Session(engine) as session:
            importer.import_plan(session, HOHHOT.read_bytes(), filename=HOHHOT.name, slug="bench-hohhot",
                                 directory=directory, actor=COMMAND_LINE, now=datetime.now().astimezone(),
                                 dry_run=True)
            session.rollback()
    timings = interleaved({"app": app_run, "floor": floor_run}, runs=15)
    app_ms, floor = timings["app"].best_ms, timings["floor"].best_ms
    return Result("plan_import", scale, database, round(app_ms, 3), round(floor, 3), round(app_ms / floor, 3),
                  10.0, 0)


def reminder_wave(engine, scale: str, database: str, *, runs: int) -> tuple[Result, dict]:
    """Planning and sending every due reminder of the open round against a bare smtplib loop over one
    connection to the same local server, as a throughput ratio; also checks nobody got two."""
    from aiosmtpd.controller import Controller
    from sqlmodel import Session, delete, select

    from tracker.reminders.mailer import SmtpMailer
    from tracker.reminders.models import OutboxMessage
    from tracker.reminders.outbox import build_email, send_outbox
    from tracker.reminders.planner import plan_reminders
    from tracker.reporting.models import ReportingRound, RoundStatus
    from tracker.time import PLAN_TZ, WorkingCalendar

    class Sink:
        def __init__(self):
            self.count = 0
            self.recipients: dict[str, int] = {}

        async def handle_DATA(self, server, session, envelope):
            self.count += 1
            for address in envelope.rcpt_tos:
                self.recipients[address] = self.recipients.get(address, 0) + 1
            return "250 OK"

    sender = "督查科 <bench@tracker.local>"
    sink = Sink()
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    with Session(engine) as session:
        due = session.exec(select(ReportingRound.due_date).where(ReportingRound.status == RoundStatus.open)).first()
    moment = datetime.combine(WorkingCalendar().add_working_days(due, 1), clock_time(10, 0), PLAN_TZ)
    app_times, floor_times, messages, duplicates = [], [], 0, 0
    try:
        for _ in range(runs):
            with Session(engine) as session:
                session.exec(delete(OutboxMessage))
                session.commit()
                sink.recipients.clear()
                begin = time.perf_counter()
                plan_reminders(session, now=moment, base_url="http://bench", sender=sender)
                with SmtpMailer(f"smtp://127.0.0.1:{port}", timeout=30) as mailer:
                    while _handled(send_outbox(session, mailer=mailer, now=moment, worker="bench", sender=sender,
                                               batch=WAVE_BATCH)) == WAVE_BATCH:
                        pass  # a short batch means the queue is drained
                app_times.append((time.perf_counter() - begin) * 1000)
                rows = session.exec(select(OutboxMessage)).all()
                messages = len(rows)
                duplicates = sum(count - 1 for count in sink.recipients.values() if count > 1)
                built = [(build_email(row, sender), list(row.recipients)) for row in rows]
            begin = time.perf_counter()
            bare = smtplib.SMTP("127.0.0.1", port, timeout=30)
            for message, recipients in built:
                bare.sendmail("bench@tracker.local", recipients, message)
            bare.quit()
            floor_times.append((time.perf_counter() - begin) * 1000)
    finally:
        controller.stop()
    app_ms, floor_ms = min(app_times), min(floor_times)
    return (Result("reminder_wave", scale, database, round(app_ms, 3), round(floor_ms, 3),
                   round(app_ms / floor_ms, 3), 2.0, 0),
            {"messages": messages, "duplicates": duplicates})


WAVE_BATCH = 500


def _handled(result) -> int:
    return result.sent + result.failed + result.retried + result.dead + result.cancelled


def dashboard_against_rollup(engine, client, path: str, round_id: int, scale: str, database: str) -> Result:
    """The dashboard page against the raw SQL rollup a live dashboard needs: the round's assignments by
    section with what is outstanding, late and reported, over the whole round (goal ≤ 3)."""
    import sqlalchemy as sa
    rollup = sa.text(
        "SELECT t.section_id, SUM(CASE WHEN r.id IS NULL OR r.status IN ('draft', 'returned') THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN r.is_late THEN 1 ELSE 0 END), COUNT(r.id)"
        " FROM round_assignments a JOIN tasks t ON t.id = a.task_id"
        " LEFT JOIN unit_reports r ON r.assignment_id = a.id"
        " WHERE a.round_id = :round_id GROUP BY t.section_id")

    def raw():
        with engine.connect() as connection:
            connection.execute(rollup, {"round_id": round_id}).all()
    timings = interleaved({"app": lambda: client.get(path), "floor": raw}, runs=20)
    app_ms, floor = timings["app"].best_ms, timings["floor"].best_ms
    return Result("dashboard_vs_rollup", scale, database, round(app_ms, 3), round(floor, 3), round(app_ms / floor, 3),
                  3.0, 0)


def summarise_dashboard(app) -> float:
    """What the scheduler does every five minutes before leaders read the dashboard (the round's task lights
    and its report figures): seconds it took."""
    from tracker.briefings.jobs import summarise_dashboards
    from tracker.reporting.jobs import summarise_round_lights
    begin = time.perf_counter()
    summarise_round_lights(app)
    summarise_dashboards(app)
    return time.perf_counter() - begin
