"""The Hohhot plan with an open round, and a token for a unit, for the lead and for the office."""
from datetime import date

import pytest
from sqlmodel import select

from tracker.accounts import tokens
from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies.models import Unit
from tracker.agencies.services import read_directory
from tracker.reporting.services import rounds
from tracker.tasks import importer, services as tasks
from tests.conftest import HOHHOT, NOW, ROOT


@pytest.fixture
def api_world(session, make_user):
    importer.import_plan(session, HOHHOT.read_bytes(), filename="hohhot.txt", slug="hohhot",
                         directory=read_directory(ROOT / "seed" / "hohhot-units.json"), actor=COMMAND_LINE, now=NOW)
    plan = tasks.get_plan(session, "hohhot")
    reporting_round = rounds.open_round(session, plan, label="2025年第三季度调度", period_start=date(2025, 7, 1),
                                        period_end=date(2025, 9, 30), due_date=date(2025, 10, 10),
                                        actor=COMMAND_LINE, now=NOW)

    def unit(name):
        return session.exec(select(Unit).where(Unit.name == name)).one()

    class World:
        pass

    world = World()
    world.plan, world.round = plan, reporting_round
    world.water = make_user(UserRole.unit, unit=unit("市水务局"), username="water")
    world.industry = make_user(UserRole.unit, unit=unit("市工业和信息化局"), username="industry")
    world.office = make_user(UserRole.office, unit=unit("市政府办公室"), username="office1")
    world.tokens = {user.username: tokens.create_token(session, user, name="测试", actor=user, now=NOW)[1]
                    for user in (world.water, world.industry, world.office)}
    return world


@pytest.fixture
def call(client, api_world):
    """call(username, method, path, json=None) with that user's bearer token."""
    def request(username, method, path, **kwargs):
        headers = {"Authorization": f"Bearer {api_world.tokens[username]}"} if username else {}
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
    return request
