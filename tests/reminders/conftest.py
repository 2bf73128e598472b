"""A round with late units; the SMTP server fixtures come from tests/smtp.py."""
from __future__ import annotations

import time as clock
from datetime import date, datetime, timezone

import pytest

from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies.models import Contact
from tracker.reporting.services import rounds
from tracker.time import PLAN_TZ
from tests.conftest import NOW
from tests.smtp import free_port  # noqa: F401  (used by the process tests)

SENDER = "市政府办公室督查科 <duchake@tracker.local>"
BASE_URL = "http://tracker.test"


def beijing(year, month, day, hour=9, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PLAN_TZ).astimezone(timezone.utc)


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

