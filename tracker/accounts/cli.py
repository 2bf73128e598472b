"""`tracker user …`: accounts from the command line."""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlmodel import Session

from tracker import time
from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE, UserFields, create_user
from tracker.db import get_session
from tracker.errors import Invalid, PermissionDenied

#: accounts uses no domain, so it finds a unit through its tables, not its model
UNITS = sa.table("units", sa.column("id"), sa.column("name"))
UNIT_ALIASES = sa.table("unit_aliases", sa.column("unit_id"), sa.column("alias"))


@click.group("user", help="用户账号。")
def user_cli() -> None:
    pass


def find_unit_id(session: Session, name: str) -> int | None:
    """Return the id of the unit called `name` (its name, short or full form), or None."""
    name = name.strip()
    unit_id = session.execute(sa.select(UNITS.c.id).where(UNITS.c.name == name)).scalar()
    if unit_id is None:
        unit_id = session.execute(sa.select(UNIT_ALIASES.c.unit_id).where(UNIT_ALIASES.c.alias == name)).scalar()
    return unit_id


def _read_password() -> str:
    """One line from stdin when it is piped; otherwise ask twice without echoing."""
    if not _stdin_is_terminal():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")


@user_cli.command("create", help="新建用户；密码从标准输入读取一行，或在终端中输入两次。")
@click.option("--username", required=True, help="用户名（小写字母、数字和 . _ -）。")
@click.option("--unit", "unit_name", required=True, help="所属单位的名称、简称或全称。")
@click.option("--role", required=True, type=click.Choice([role.value for role in UserRole]),
              help="角色：office 政府办督查科，coordinator 统筹单位，unit 承办单位，leader 领导。")
@click.option("--email", required=True, help="电子邮箱。")
@click.option("--name", "display_name", help="姓名（默认同用户名）。")
@with_appcontext
def create_command(username: str, unit_name: str, role: str, email: str, display_name: str | None) -> None:
    session = get_session()
    unit_id = find_unit_id(session, unit_name)
    if unit_id is None:
        _fail(f"没有名为“{unit_name}”的单位（可用单位名称、简称或全称）")
    password = _read_password()
    fields = UserFields(display_name=display_name or username.strip(), unit_id=unit_id, role=UserRole(role),
                        email=email)
    try:
        user = create_user(session, username=username, password=password, fields=fields,
                           actor=COMMAND_LINE, now=time.now())
    except (Invalid, PermissionDenied) as exc:
        _fail(exc.message)
    click.echo(f"已创建用户 {user.username}（{user.role.label}）")


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _fail(message: str):
    click.echo(message, err=True)
    sys.exit(1)
