"""`tracker units …`: the units directory."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker import time
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies import contacts, services
from tracker.db import get_session
from tracker.errors import Invalid, InvalidFile


@click.group("units", help="单位目录。")
def units_cli() -> None:
    pass


@units_cli.command("load", help="把单位目录文件（JSON）中数据库还没有的单位、简称和单位组加进来。")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def load_command(path: Path | None) -> None:
    path = path or Path(current_app.config["UNITS_DIRECTORY"])
    try:
        report = services.load_directory(get_session(), path, now=time.now())
    except Invalid as exc:
        click.echo(f"无法载入单位目录：{exc}", err=True)
        sys.exit(1)
    click.echo(f"新增单位 {len(report.units_created)} 个，简称/全称 {len(report.aliases_added)} 个，"
               f"单位组 {len(report.groups_created)} 个")


@click.group("contacts", help="单位联系人（接收提醒邮件）。")
def contacts_cli() -> None:
    pass


@contacts_cli.command("import", help="从 .xlsx 或 .csv 文件导入联系人（表头：单位,姓名,电子邮箱,电话）；"
                                     "文件中每个单位的联系人替换为文件中的行；文件有误时整份不导入。")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_contacts_command(path: Path) -> None:
    try:
        result = contacts.import_contacts(get_session(), path.read_bytes(), filename=path.name,
                                          actor=COMMAND_LINE, now=time.now())
    except InvalidFile as exc:
        click.echo(f"联系人文件未导入，共 {len(exc.problems)} 处问题：", err=True)
        for line, message in exc.problems:
            click.echo(f"第 {line} 行：{message}" if line else message, err=True)
        sys.exit(1)
    click.echo(result.summary())
