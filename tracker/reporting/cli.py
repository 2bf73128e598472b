"""`tracker round …`: reporting rounds from the command line."""
from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker import time
from tracker.accounts.services import COMMAND_LINE
from tracker.db import get_session
from tracker.errors import Conflict, Invalid, NotFound, PermissionDenied
from tracker.reporting import ledger
from tracker.reporting.services import rounds
from tracker.tasks import services as plans


@click.group("round", help="定期调度。")
def round_cli() -> None:
    pass


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        _fail(f"{option} 的日期格式应为 YYYY-MM-DD，如 2025-10-10：{text}")


@round_cli.command("open", help="为一个计划开启一轮调度；最后一行输出新调度的编号。")
@click.option("--plan", "slug", required=True, help="计划标识（见 tracker plan list）。")
@click.option("--label", required=True, help="调度名称，如“2025年第三季度调度”。")
@click.option("--period-start", required=True, help="调度期开始日期 YYYY-MM-DD。")
@click.option("--period-end", required=True, help="调度期结束日期 YYYY-MM-DD。")
@click.option("--due", required=True, help="报送截止日期 YYYY-MM-DD（北京时间）。")
@with_appcontext
def open_command(slug: str, label: str, period_start: str, period_end: str, due: str) -> None:
    session = get_session()
    start, end, due_date = (_day(period_start, "--period-start"), _day(period_end, "--period-end"),
                            _day(due, "--due"))
    try:
        plan = plans.get_plan(session, slug)
    except NotFound:
        _fail(f"没有标识为 {slug} 的计划（用 tracker plan list 查看已导入的计划）")
    try:
        opened = rounds.open_round(session, plan, label=label, period_start=start, period_end=end, due_date=due_date,
                                   actor=COMMAND_LINE, now=time.now())
    except (Invalid, Conflict) as exc:
        _fail(f"无法开启调度：{exc.message}")
    click.echo(f"已开启“{opened.label}”（{plan.title}），{opened.due_date:%Y-%m-%d} 截止")
    click.echo(str(opened.id))


@round_cli.command("list", help="列出调度：编号、计划、名称、截止日期、状态，每轮一行（最近开启的在前）。")
@with_appcontext
def list_command() -> None:
    session = get_session()
    page, shown = 1, 0
    while True:
        found, total = rounds.list_rounds(session, actor=COMMAND_LINE, page=page, size=500)
        for reporting_round in found:
            status = "进行中" if reporting_round.is_open else "已关闭"
            click.echo(f"{reporting_round.id}\t{reporting_round.plan.slug}\t{reporting_round.label}\t"
                       f"{reporting_round.due_date:%Y-%m-%d}\t{status}")
        shown += len(found)
        if not found or shown >= total:
            break
        page += 1
    if total == 0:
        click.echo("还没有开启过调度（用 tracker round open 开启）", err=True)


@round_cli.command("ledger", help="把一轮调度的台账导出为 .xlsx。")
@click.argument("round_id", type=int)
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="写入的 .xlsx 文件。")
@with_appcontext
def ledger_command(round_id: int, output: Path) -> None:
    session = get_session()
    try:
        found = rounds.get_round(session, round_id, actor=COMMAND_LINE)
    except NotFound:
        _fail(f"没有编号为 {round_id} 的调度")
    partial = output.with_name(f".{output.name}.part")
    try:
        count = ledger.write_ledger(session, found, actor=COMMAND_LINE, output=partial, now=time.now())
        os.replace(partial, output)
    except PermissionDenied as exc:
        _fail(exc.message)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        _fail(f"无法写入 {output}：{exc.strerror or exc}")
    click.echo(f"已导出“{found.label}”台账：{count} 行 → {output}")
