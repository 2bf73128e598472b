"""`tracker plan …`: import, list and export plans."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker import time
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies.services import read_directory
from tracker.db import get_session
from tracker.errors import Invalid, NotFound
from tracker.tasks import importer, services
from tracker.tasks.parsing import PlanParseError


@click.group("plan", help="计划文件的导入与导出。")
def plan_cli() -> None:
    pass


def configured_directory() -> dict | None:
    path = current_app.config.get("UNITS_DIRECTORY")
    return read_directory(path) if path and Path(path).exists() else None


@plan_cli.command("import", help="导入（或重新导入）一份计划文件：.txt（UTF-8 / GB18030）或 .docx。")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--slug", help="计划标识（小写字母、数字、连字符），默认取文件名。")
@click.option("--dry-run", is_flag=True, help="只解析并报告将要发生的改动，不写入数据库。")
@with_appcontext
def import_command(path: Path, slug: str | None, dry_run: bool) -> None:
    session = get_session()
    try:
        result = importer.import_plan(
            session, path.read_bytes(), filename=path.name, slug=slug or importer.slug_from_filename(path.name),
            directory=configured_directory(), actor=COMMAND_LINE, now=time.now(), dry_run=dry_run)
    except PlanParseError as exc:
        click.echo(f"无法导入 {path}：", err=True)
        for line, message in exc.problems:
            click.echo(f"  第 {line} 行：{message}" if line else f"  {message}", err=True)
        sys.exit(1)
    except Invalid as exc:
        click.echo(f"无法导入 {path}：{exc}", err=True)
        sys.exit(2)
    for line in result.summary_lines():
        click.echo(line)


@plan_cli.command("list", help="列出已导入的计划。")
@with_appcontext
def list_command() -> None:
    plans = services.list_plans(get_session())
    if not plans:
        click.echo("还没有导入任何计划。")
    for plan, task_count in plans:
        click.echo(f"{plan.slug}\t{plan.title}\t{task_count} 项任务")


@plan_cli.command("export", help="把计划导出为 JSON（写到标准输出）。")
@click.argument("slug")
@click.option("--format", "output_format", type=click.Choice(["json"]), default="json", show_default=True)
@with_appcontext
def export_command(slug: str, output_format: str) -> None:
    try:
        data = services.export_plan(get_session(), slug)
    except NotFound:
        click.echo(f"没有标识为 {slug} 的计划", err=True)
        sys.exit(1)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
