"""`tracker demo seed`: one login per role and per unit of the plan, the same on every run."""
from __future__ import annotations

import re

import pytest
from sqlmodel import func, select

from tracker import demo
from tracker.accounts.models import User, UserRole
from tracker.accounts.services import COMMAND_LINE, authenticate, check_password_rules
from tracker.agencies.models import Contact, Unit, UnitAlias, UnitGroup
from tracker.agencies.services import merge_directory, read_directory
from tracker.audit.models import AuditEvent
from tracker.tasks import importer
from tracker.tasks.models import Plan
from tracker.tasks.services import plan_units
from tests.conftest import HOHHOT, NOW, ROOT
from tests.factories import _TEST_HASH as TEST_HASH

DIRECTORY = read_directory(ROOT / "seed" / "hohhot-units.json")
TABLES = (User, Contact, Unit, UnitAlias, UnitGroup, AuditEvent)
ROLES = {role.value for role in UserRole}


@pytest.fixture(autouse=True)
def cheap_hashes(request, monkeypatch):
    """Argon2id costs ~20 ms a user; only the login test needs the real hashes."""
    if "real_hashes" not in request.fixturenames:
        monkeypatch.setattr(demo, "hash_password", lambda password: TEST_HASH)


@pytest.fixture
def real_hashes():
    """Ask for this to keep the real Argon2id hashing."""


@pytest.fixture
def hohhot(session):
    importer.import_plan(session, HOHHOT.read_bytes(), filename="hohhot.txt", slug="hohhot", directory=DIRECTORY,
                         actor=COMMAND_LINE, now=NOW)
    return session.exec(select(Plan).where(Plan.slug == "hohhot")).one()


def seed(runner) -> list[str]:
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def logins(lines: list[str]) -> list[list[str]]:
    return [line.split("  ") for line in lines[1:]]


def row_counts(session) -> dict[str, int]:
    return {table.__tablename__: session.exec(select(func.count()).select_from(table)).one() for table in TABLES}


def test_seeding_twice_prints_the_same_lines_and_changes_nothing(runner, session, hohhot):
    first = seed(runner)
    counts = row_counts(session)
    second = seed(runner)
    assert second == first
    assert row_counts(session) == counts


def test_the_output_is_a_chinese_header_then_four_fields_two_spaces_apart(runner, hohhot):
    lines = seed(runner)
    assert "演示账号" in lines[0] and "  " not in lines[0]
    assert len(lines) == 1 + 4 + 35
    for line in lines[1:]:
        fields = line.split("  ")
        assert len(fields) == 4, line
        role, unit, username, password = fields
        assert role in ROLES and unit and all(f == f.strip() and f for f in fields), line
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,63}", username), line
        assert re.fullmatch(r"[a-km-np-zA-HJ-NP-Z2-9]{12}", password), line
    assert [line.split("  ")[0] for line in lines[1:6]] == ["office", "coordinator", "coordinator", "leader", "unit"]


def test_there_is_an_account_for_each_role_and_for_every_unit_of_the_plan(runner, session, hohhot):
    accounts = {username: (role, unit) for role, unit, username, _ in logins(seed(runner))}
    assert accounts["office"] == ("office", "市政府办公室")
    assert accounts["coord-fgw"] == ("coordinator", "市发展改革委")
    assert accounts["coord-sthjj"] == ("coordinator", "市生态环境局")
    assert accounts["leader"][0] == "leader"
    assert accounts["fgw"] == ("unit", "市发展改革委") and accounts["xcq"] == ("unit", "新城区")
    assert accounts["hlgexq"] == ("unit", "和林格尔新区")
    unit_accounts = {unit for role, unit in accounts.values() if role == "unit"}
    assert {unit.name for unit in plan_units(session, hohhot).everyone} <= unit_accounts
    user = session.exec(select(User).where(User.username == "fgw")).one()
    assert user.display_name == "市发展改革委联络员" and user.email == "fgw@demo.tracker.local"


def test_every_printed_login_works(runner, session, hohhot, real_hashes):
    for role, _unit, username, password in logins(seed(runner)):
        user = authenticate(session, username, password, ip="192.0.2.7", now=NOW)
        assert user.role.value == role and user.is_active


def test_every_unit_of_the_plan_has_a_contact_email(runner, session, hohhot):
    seed(runner)
    units = plan_units(session, hohhot).everyone
    emails = dict(session.exec(select(Contact.unit_id, Contact.email)
                               .where(Contact.unit_id.in_([unit.id for unit in units]))).all())
    for unit in units:
        assert emails.get(unit.id, "").endswith("@demo.tracker.local"), unit.name
    fgw = session.exec(select(Unit).where(Unit.name == "市发展改革委")).one()
    assert emails[fgw.id] == "fgw@demo.tracker.local"


def test_the_office_has_a_contact_so_escalations_copied_to_it_are_delivered(runner, session, hohhot):
    seed(runner)
    office = session.exec(select(Unit).where(Unit.name == "市政府办公室")).one()
    assert [c.email for c in session.exec(select(Contact).where(Contact.unit_id == office.id))] == [
        "office@demo.tracker.local"]


def test_a_unit_that_has_a_contact_keeps_it_alone(runner, session, hohhot):
    fgw = session.exec(select(Unit).where(Unit.name == "市发展改革委")).one()
    session.add(Contact(unit_id=fgw.id, name="张三", email="zhangsan@fgw.example.gov.cn", updated_dt=NOW))
    session.flush()
    seed(runner)
    contacts = session.exec(select(Contact).where(Contact.unit_id == fgw.id)).all()
    assert [c.email for c in contacts] == ["zhangsan@fgw.example.gov.cn"]


def test_a_second_run_hashes_no_password(runner, hohhot, monkeypatch):
    seed(runner)
    hashed = []
    monkeypatch.setattr(demo, "hash_password", lambda password: hashed.append(password) or "x")
    seed(runner)
    assert hashed == []


def test_each_created_user_is_audited(runner, session, hohhot):
    seed(runner)
    created = session.exec(select(AuditEvent.summary).where(AuditEvent.action == "user.created")).all()
    assert len(created) == session.exec(select(func.count()).select_from(User)).one() == 39
    assert all(event.actor_name == "命令行" for event in session.exec(
        select(AuditEvent).where(AuditEvent.action == "user.created")))


def test_seeding_loads_the_units_directory_when_the_database_is_empty(runner, session):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    usernames = [fields[2] for fields in logins(result.stdout.splitlines())]
    assert usernames[:4] == ["office", "coord-fgw", "coord-sthjj", "leader"]
    assert "xcq" in usernames and "fgw" not in usernames  # areas, but no plan yet
    assert "tracker plan import" in result.stderr
    assert session.exec(select(Unit.code).where(Unit.name == "市生态环境局")).one() == "sthjj"


def test_a_username_held_by_a_real_account_is_neither_changed_nor_listed(runner, session, make_user, hohhot):
    real = make_user(UserRole.unit, username="fgw")
    password_hash = real.password_hash
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "fgw" not in [fields[2] for fields in logins(result.stdout.splitlines())]
    assert "fgw" in result.stderr
    session.refresh(real)
    assert real.password_hash == password_hash and real.email != "fgw@demo.tracker.local"


def test_demo_passwords_follow_the_key_and_the_rules():
    password = demo.demo_password("key one", "office")
    assert password == demo.demo_password("key one", "office")
    assert password != demo.demo_password("key two", "office") != demo.demo_password("key one", "leader")
    assert len(password) == 12 and not set(password) & set("0Oo1lI")
    check_password_rules(password, username="office")


def test_the_directory_gives_units_their_codes_once(session):
    merge_directory(session, DIRECTORY, now=NOW)
    codes = dict(session.exec(select(Unit.name, Unit.code)).all())
    assert codes["市发展改革委"] == "fgw" and codes["市政府办公室"] == "zfb" and codes["呼和浩特市"] == "hhht"
    assert all(codes[entry["name"]] == entry["code"] for entry in DIRECTORY["units"])
    assert all(re.fullmatch(r"[a-z]+", code) for code in codes.values())
    fgw = session.exec(select(Unit).where(Unit.name == "市发展改革委")).one()
    fgw.code = "ndrc"
    session.flush()
    merge_directory(session, DIRECTORY, now=NOW)
    assert fgw.code == "ndrc"


def test_demo_seed_refuses_in_production(runner, monkeypatch):
    monkeypatch.setenv("TRACKER_ENV", "production")
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 1 and "生产环境" in result.stderr
