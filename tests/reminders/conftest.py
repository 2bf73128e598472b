"""A real SMTP server on loopback (aiosmtpd) that can be told to misbehave, and a round with late units."""
from __future__ import annotations

import socket
import threading
import time as clock
from collections import deque
from datetime import date, datetime, timezone
from email import message_from_bytes, policy as email_policy

import pytest
from aiosmtpd.controller import Controller

from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies.models import Contact
from tracker.reminders.mailer import SmtpMailer
from tracker.reporting.services import rounds
from tracker.time import PLAN_TZ
from tests.conftest import NOW

SENDER = "市政府办公室督查科 <duchake@tracker.local>"
BASE_URL = "http://tracker.test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def beijing(year, month, day, hour=9, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PLAN_TZ).astimezone(timezone.utc)


class Handler:
    """Accepts mail, unless told otherwise: refuse a recipient, answer DATA with a script, or stall."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: dict[str, str] = {}
        self.data_answers: deque[str] = deque()
        self.delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio
            await asyncio.sleep(self.delay)
        if self.data_answers:
            return self.data_answers.popleft()
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"

    def parsed(self):
        return [message_from_bytes(content, policy=email_policy.default) for _, _, content in self.messages]


class SmtpServer:
    def __init__(self):
        self.handler = Handler()
        self.port = free_port()
        self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def mailer(self, timeout: float = 5) -> SmtpMailer:
        return SmtpMailer(self.url, timeout=timeout)

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def black_hole():
    """Accepts TCP connections and never says a word (a firewall that swallows packets)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"smtp://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.fixture
def reminder_world(session, make_plan, make_unit, make_task, make_user, make_section):
    """Three units owe tasks in a round due 2025-11-14 (a Friday); every unit has a contact."""
    plan = make_plan()
    section = make_section(plan, 2)
    lead, first, second = make_unit("市甲局"), make_unit("市乙局"), make_unit("市丙局")
    office_unit, coordinator_unit = make_unit("市政府办公室"), make_unit("市发展改革委")
    task = make_task(plan, lead=lead, responsible=[first, second], section=section, number=1, title="甲工程")
    other = make_task(plan, lead=lead, responsible=[first], section=section, number=2, title="乙工程")
    make_user(UserRole.office, unit=office_unit)
    make_user(UserRole.coordinator, unit=coordinator_unit)
    for unit in (lead, first, second, office_unit, coordinator_unit):
        session.add(Contact(unit_id=unit.id, name=f"{unit.name}联络员", email=f"u{unit.id}@units.test", updated_dt=NOW))
    session.flush()
    reporting_round = rounds.open_round(session, plan, label="2025年10月调度", period_start=date(2025, 10, 1),
                                        period_end=date(2025, 10, 31), due_date=date(2025, 11, 14),
                                        actor=COMMAND_LINE, now=NOW)

    class World:
        pass

    world = World()
    world.plan, world.task, world.other, world.round = plan, task, other, reporting_round
    world.lead, world.first, world.second, world.office, world.coordinator = (lead, first, second, office_unit,
                                                                              coordinator_unit)
    return world


def wait_for(predicate, seconds=10.0):
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        if predicate():
            return True
        clock.sleep(0.1)
    return False

