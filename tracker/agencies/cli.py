"""`tracker units …`: the units directory."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker import time
from tracker.agencies import services
from tracker.db import get_session
from tracker.errors import Invalid


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
