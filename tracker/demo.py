"""`tracker demo seed`: accounts for every role and unit, so a newcomer can try everything at once.

Demo passwords are never stored in clear text nor written in the code: each is derived from the
installation's SECRET_KEY and the username (HMAC-SHA256), so every run prints the same logins.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session, select

from tracker import time
from tracker.accounts.models import User, UserRole
from tracker.accounts.permissions import can_manage_users, require
from tracker.accounts.services import COMMAND_LINE, check_password_rules, hash_password
from tracker.agencies.models import Contact, Unit, UnitKind
from tracker.agencies.services import NameResolver, merge_directory, read_directory
from tracker.audit import services as audit
from tracker.db import get_session
from tracker.errors import Invalid
from tracker.tasks.models import AreaTarget, Task, TaskAssignment

#: every demo address lies in this domain, which also tells demo accounts from real ones
DEMO_EMAIL_DOMAIN = "demo.tracker.local"
#: no 0/O/o, 1/l/I: a password read off a terminal is typed right the first time
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 12
OFFICE_UNIT, LEADER_UNIT = "市政府办公室", "呼和浩特市"
#: (username, unit name) of the two 统筹单位
COORDINATORS = (("coord-fgw", "市发展改革委"), ("coord-sthjj", "市生态环境局"))
AREA_KINDS = (UnitKind.area, UnitKind.zone)
HEADER = "演示账号（角色、单位、用户名、密码；密码由本机密钥推导，每次运行相同，账号改过密码后以新密码为准）："


@dataclass(frozen=True)
class DemoAccount:
    role: UserRole
    unit_name: str
    username: str
    password: str

    @property
    def line(self) -> str:
        """`role  unit  username  password`, two spaces apart (other tools read these lines)."""
        return "  ".join((self.role.value, self.unit_name, self.username, self.password))


@dataclass
class DemoSeed:
    """What a seed run did: the logins to print, what it created, what it had to leave out."""

    accounts: list[DemoAccount] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)
    contacts_created: list[str] = field(default_factory=list)
    #: notes for the person running it (a missing unit, a username held by a real account)
    notes: list[str] = field(default_factory=list)


def demo_password(secret_key: str, username: str) -> str:
    """Derive the demo password of `username` for this installation: 12 unambiguous characters."""
    for attempt in range(100):
        message = f"demo:{username}" + (f":{attempt}" if attempt else "")
        number = int.from_bytes(hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest(), "big")
        characters = []
        for _ in range(PASSWORD_LENGTH):
            number, index = divmod(number, len(PASSWORD_ALPHABET))
            characters.append(PASSWORD_ALPHABET[index])
        password = "".join(characters)
        try:
            check_password_rules(password, username=username)
        except Invalid:
            continue
        return password
    raise RuntimeError("no demo password passes the password rules")  # pragma: no cover


def demo_email(username: str) -> str:
    return f"{username}@{DEMO_EMAIL_DOMAIN}"


def seed_demo(session: Session, *, secret_key: str, directory: dict | None, actor, now: datetime) -> DemoSeed:
    """Create the demo accounts and unit contacts that are missing; change nothing that exists.

    Loads `directory` first (adding only what the database lacks). Accounts: the office, the two
    coordinators, a leader, and one unit account per unit that carries a task in any plan plus
    every area and zone. Passwords are hashed only for the users created now.

    :raises PermissionDenied: unless `actor` manages users
    :raises Invalid: if `secret_key` is empty, or the directory is malformed
    """
    require(can_manage_users(actor))
    if not secret_key:
        raise Invalid("secret_key", "没有配置 SECRET_KEY，无法推导演示密码")
    if directory:
        merge_directory(session, directory, now=now)
    resolver = NameResolver.load(session)
    units_by_id = {unit.id: unit for unit in resolver.units.values()}
    wanted = _wanted_accounts(session, resolver, units_by_id)
    result = DemoSeed(notes=wanted.notes)

    existing = {user.username: user for user in session.exec(
        select(User).where(User.username.in_([username for _, _, username, _ in wanted.rows] or ["-"])))}
    created: list[User] = []
    for role, unit, username, display_name in wanted.rows:
        user = existing.get(username)
        if user is not None and user.email != demo_email(username):
            result.notes.append(f"用户名 {username} 已被非演示账号使用，未列出")
            continue
        password = demo_password(secret_key, username)
        if user is None:
            user = User(username=username, display_name=display_name, unit_id=unit.id, role=role,
                        email=demo_email(username), password_hash=hash_password(password),
                        created_dt=now, password_changed_dt=now)
            session.add(user)
            created.append(user)
        result.accounts.append(DemoAccount(user.role, units_by_id.get(user.unit_id, unit).name, username, password))
    session.flush()
    for user in created:
        audit.record(session, actor=actor, action="user.created", now=now, target=user,
                     summary=f"新建演示用户 {user.username}（{user.role.label}）")
        result.users_created.append(user.username)

    with_contact = set(session.exec(select(Contact.unit_id).where(
        Contact.unit_id.in_([unit.id for unit, _ in wanted.unit_logins] or [-1]))).all())
    for unit, username in wanted.unit_logins:
        if unit.id not in with_contact:
            session.add(Contact(unit_id=unit.id, name=f"{unit.name[:75]}联络员", email=demo_email(username),
                                updated_dt=now))
            result.contacts_created.append(unit.name)
    session.commit()
    return result


@dataclass
class _Wanted:
    #: (role, unit, username, display name), in the order they are printed
    rows: list[tuple[UserRole, Unit, str, str]] = field(default_factory=list)
    #: every unit of the plans with the username of its unit account (its contact's address)
    unit_logins: list[tuple[Unit, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _wanted_accounts(session: Session, resolver: NameResolver, units_by_id: dict[int, Unit]) -> _Wanted:
    wanted = _Wanted()
    office_unit = resolver.unit(OFFICE_UNIT) or _city(units_by_id)
    leader_unit = resolver.unit(LEADER_UNIT) or _city(units_by_id) or office_unit
    staff = [(UserRole.office, office_unit, "office", "市政府办公室督查科", OFFICE_UNIT)]
    staff += [(UserRole.coordinator, resolver.unit(name), username, f"{name}统筹联络员", name)
              for username, name in COORDINATORS]
    staff.append((UserRole.leader, leader_unit, "leader", "市领导", LEADER_UNIT))
    for role, unit, username, display_name, unit_name in staff:
        if unit is None:
            wanted.notes.append(f"单位目录中没有“{unit_name}”，未创建 {username}")
        else:
            wanted.rows.append((role, unit, username, display_name))

    taken = {username for _, _, username, _ in wanted.rows}
    plan_unit_ids = _plan_unit_ids(session)
    if not plan_unit_ids:
        wanted.notes.append("还没有导入计划：先运行 tracker plan import，再运行本命令，即可得到计划中各单位的账号")
    for unit_id in sorted(plan_unit_ids | {u.id for u in units_by_id.values() if u.kind in AREA_KINDS and u.is_active}):
        unit = units_by_id[unit_id]
        username = unit.code if unit.code and unit.code not in taken else f"unit{unit.id}"
        taken.add(username)
        wanted.rows.append((UserRole.unit, unit, username, f"{unit.name[:77]}联络员"))
        wanted.unit_logins.append((unit, username))
    # the office and the coordinators are copied on escalations: their units need a contact too
    with_login = {unit.id for unit, _ in wanted.unit_logins}
    for role, unit, username, _ in wanted.rows:
        if role is not UserRole.unit and unit.id not in with_login:
            wanted.unit_logins.append((unit, username))
            with_login.add(unit.id)
    return wanted


def _city(units_by_id: dict[int, Unit]) -> Unit | None:
    return next((u for _, u in sorted(units_by_id.items()) if u.kind is UnitKind.city), None)


def _plan_unit_ids(session: Session) -> set[int]:
    """Units that carry a task (named or through a group) or have an area target, in any plan."""
    carrying = (select(TaskAssignment.unit_id).join(Task, Task.id == TaskAssignment.task_id)
                .where(Task.is_active))
    with_targets = select(AreaTarget.unit_id)
    return set(session.execute(sa.union(carrying, with_targets)).scalars().all())


# --- the command ------------------------------------------------------------------------------

@click.group("demo", help="演示数据。")
def demo_cli() -> None:
    pass


@demo_cli.command("seed", help="创建各角色和计划中每个单位的演示账号及联系人，并列出登录信息（可反复运行）。")
@with_appcontext
def seed_command() -> None:
    if os.environ.get("TRACKER_ENV") == "production":
        click.echo("生产环境（TRACKER_ENV=production）不创建演示账号。", err=True)
        sys.exit(1)
    path = current_app.config.get("UNITS_DIRECTORY")
    try:
        directory = read_directory(Path(path)) if path and Path(path).exists() else None
        result = seed_demo(get_session(), secret_key=current_app.config["SECRET_KEY"], directory=directory,
                           actor=COMMAND_LINE, now=time.now())
    except Invalid as exc:
        click.echo(f"无法创建演示数据：{exc}", err=True)
        sys.exit(1)
    click.echo(HEADER)
    for account in result.accounts:
        click.echo(account.line)
    for note in result.notes:
        click.echo(f"注意：{note}", err=True)
