"""Factories as fixtures: callables that build rows, flush, and never commit."""
from __future__ import annotations

import itertools

import pytest

from tracker.accounts.models import User, UserRole
from tracker.accounts.services import hash_password
from tracker.agencies.models import GroupMembership, Unit, UnitGroup, UnitGroupMember, UnitKind
from tracker.tasks.models import Plan, Role, Section, Task, TaskAssignment, TaskGroup, TaskLevel
from tests.conftest import NOW

_sequence = itertools.count(1)


@pytest.fixture
def make_unit(session):
    def make(name: str | None = None, *, kind: UnitKind = UnitKind.department, **fields) -> Unit:
        unit = Unit(name=name or f"测试单位{next(_sequence)}", kind=kind, created_dt=NOW, **fields)
        session.add(unit)
        session.flush()
        return unit
    return make


@pytest.fixture
def make_group(session):
    def make(name: str, members: list[Unit] = (), *, membership=GroupMembership.listed) -> UnitGroup:
        group = UnitGroup(name=name, membership=membership, created_dt=NOW)
        session.add(group)
        session.flush()
        session.add_all([UnitGroupMember(group_id=group.id, unit_id=u.id) for u in members])
        session.flush()
        return group
    return make


@pytest.fixture
def make_plan(session):
    def make(slug: str | None = None, **fields) -> Plan:
        number = next(_sequence)
        plan = Plan(slug=slug or f"plan-{number}", title=fields.pop("title", f"测试计划{number}"),
                    source_sha256="0" * 64, imported_dt=NOW, updated_dt=NOW,
                    start_year=fields.pop("start_year", 2021), end_year=fields.pop("end_year", 2025), **fields)
        session.add(plan)
        session.flush()
        return plan
    return make


@pytest.fixture
def make_section(session):
    def make(plan: Plan, number: int = 1, title: str = "重点工程") -> Section:
        section = Section(plan_id=plan.id, number=number, label=f"{number}、", title=title, line=number)
        session.add(section)
        session.flush()
        return section
    return make


@pytest.fixture
def make_task(session):
    def make(plan: Plan, *, lead: Unit | None = None, responsible: list[Unit] = (),
             groups: list[UnitGroup] = (), section: Section | None = None, number: int | None = None,
             title: str | None = None) -> Task:
        number = number or next(_sequence)
        task = Task(plan_id=plan.id, section_id=section.id if section else None,
                    key=f"{section.number if section else 0}.{number}", level=TaskLevel.clause,
                    section_number=section.number if section else None, number=number,
                    label=f"（{number}）", title=title or f"测试任务{number}", text=f"测试任务{number}的条款文字。",
                    line=number, position=number)
        session.add(task)
        session.flush()
        owners = ([(lead, Role.lead)] if lead else []) + [(u, Role.responsible) for u in responsible]
        session.add_all([TaskAssignment(task_id=task.id, unit_id=u.id, role=role, position=i)
                         for i, (u, role) in enumerate(owners)])
        session.add_all([TaskGroup(task_id=task.id, group_id=g.id, role=Role.responsible, position=i)
                         for i, g in enumerate(groups)])
        session.flush()
        return task
    return make


#: one Argon2id hash for every test user, so factories stay fast
TEST_PASSWORD = "correct horse battery staple"
_TEST_HASH = hash_password(TEST_PASSWORD)


@pytest.fixture
def make_user(session, make_unit):
    def make(role: UserRole = UserRole.unit, *, unit: Unit | None = None, username: str | None = None,
             is_active: bool = True) -> User:
        number = next(_sequence)
        unit = unit or make_unit()
        user = User(username=username or f"user{number}", display_name=f"测试用户{number}", unit_id=unit.id,
                    role=role, email=f"user{number}@example.gov.cn", password_hash=_TEST_HASH, is_active=is_active,
                    created_dt=NOW, password_changed_dt=NOW)
        session.add(user)
        session.flush()
        return user
    return make


class AuthActions:
    """Log a test client in and out (flaskr's pattern)."""

    def __init__(self, client, make_user):
        self.client = client
        self.make_user = make_user

    def login(self, user: User) -> User:
        """Open a session for `user` directly, as a successful login would."""
        from tracker import time
        with self.client.session_transaction() as cookie:
            cookie["_user_id"] = user.get_id()
            cookie["_fresh"] = True
            cookie["login_dt"] = cookie["seen_dt"] = time.now().isoformat()
        return user

    def login_as(self, role: UserRole = UserRole.unit, **options) -> User:
        return self.login(self.make_user(role, **options))

    def login_form(self, username: str, password: str = TEST_PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client, make_user):
    return AuthActions(client, make_user)
