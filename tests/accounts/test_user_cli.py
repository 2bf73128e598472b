"""`tracker user create`: an account from the command line, its password never on the command line."""
from __future__ import annotations

import pytest
from sqlmodel import select

from tracker.accounts import cli as user_cli
from tracker.accounts.models import User, UserRole
from tracker.accounts.services import COMMAND_LINE, authenticate
from tracker.agencies.models import UnitAlias
from tracker.audit.models import AuditEvent
from tests.conftest import NOW

PASSWORD = "绿色低碳 2025 steady"


@pytest.fixture
def fgw(session, make_unit):
    unit = make_unit("市发展改革委")
    session.add(UnitAlias(unit_id=unit.id, alias="市发改委"))
    session.flush()
    return unit


def create(runner, *extra, username="zhangsan", unit="市发展改革委", role="unit", email="zs@fgw.example.gov.cn",
           password=PASSWORD):
    args = ["user", "create", "--username", username, "--unit", unit, "--role", role, "--email", email, *extra]
    return runner.invoke(args=args, input=None if password is None else password + "\n")


def test_a_user_is_created_with_the_password_read_from_stdin(runner, session, fgw):
    result = create(runner)
    assert result.exit_code == 0, result.output
    assert result.stdout == "已创建用户 zhangsan（承办单位）\n"
    user = session.exec(select(User).where(User.username == "zhangsan")).one()
    assert (user.unit_id, user.role, user.email) == (fgw.id, UserRole.unit, "zs@fgw.example.gov.cn")
    assert authenticate(session, "zhangsan", PASSWORD, ip="192.0.2.1", now=NOW).id == user.id
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.created")).one()
    assert event.actor_name == COMMAND_LINE.display_name and event.target_id == user.id


def test_the_unit_may_be_named_by_an_alias(runner, session, fgw):
    result = create(runner, "--name", "李四", username="lisi", unit="市发改委", role="coordinator")
    assert result.exit_code == 0, result.output
    assert "已创建用户 lisi（统筹单位）" in result.stdout
    user = session.exec(select(User).where(User.username == "lisi")).one()
    assert (user.unit_id, user.role, user.display_name) == (fgw.id, UserRole.coordinator, "李四")


def test_a_weak_password_is_refused_with_the_rule_in_chinese(runner, session, fgw):
    result = create(runner, password="password")
    assert result.exit_code == 1
    assert "这个密码太常见" in result.stderr and result.stdout == ""
    assert session.exec(select(User).where(User.username == "zhangsan")).first() is None
    short = create(runner, password="short")
    assert short.exit_code == 1 and "密码至少需要 8 个字符" in short.stderr


def test_an_unknown_unit_is_refused(runner, session, fgw):
    result = create(runner, unit="市火星局")
    assert result.exit_code == 1
    assert "没有名为“市火星局”的单位" in result.stderr
    assert session.exec(select(User)).first() is None


def test_a_taken_username_is_refused(runner, session, fgw, make_user):
    make_user(UserRole.unit, unit=fgw, username="zhangsan")
    result = create(runner, username="ZhangSan")
    assert result.exit_code == 1
    assert "这个用户名已被使用" in result.stderr
    assert len(session.exec(select(User).where(User.username == "zhangsan")).all()) == 1


def test_an_unknown_role_is_refused_by_the_command_line(runner, fgw):
    result = create(runner, role="admin")
    assert result.exit_code == 2 and "admin" in result.stderr


def test_on_a_terminal_the_password_is_asked_twice_without_echo(runner, session, fgw, monkeypatch):
    monkeypatch.setattr(user_cli, "_stdin_is_terminal", lambda: True)
    result = runner.invoke(args=["user", "create", "--username", "wangwu", "--unit", "市发展改革委", "--role",
                                 "office", "--email", "ww@example.gov.cn"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "已创建用户 wangwu（政府办督查科）" in result.stdout
    assert session.exec(select(User).where(User.username == "wangwu")).one().role is UserRole.office
