"""`tracker reminders run-once` and `tracker calendar show YEAR`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker import time
from tracker.db import get_session
from tracker.reminders import services
from tracker.reminders.mailer import mailer_from_config
from tracker.time import DaySource


@click.group("reminders", help="提醒与催办邮件。")
def reminders_cli() -> None:
    pass


@reminders_cli.command("run-once", help="排队一次到期的提醒并发送一次：与定时任务每次做的完全相同。")
@click.option("--now", "now_text", help="按这个时刻运行，如 2025-10-20T09:00:00+08:00（不带时区按北京时间）。")
@with_appcontext
def run_once_command(now_text: str | None) -> None:
    now = time.parse_moment(now_text) if now_text else time.now()
    config = current_app.config
    result = services.run_once(get_session(), now=now, mailer=mailer_from_config(config),
                               base_url=config["BASE_URL"], sender=config["MAIL_SENDER"])
    if result.sending.is_paused:
        click.echo("邮件发送已暂停，请到邮件页面查看原因", err=True)
    click.echo(result.line())


@click.group("calendar", help="工作日日历。")
def calendar_cli() -> None:
    pass


@calendar_cli.command("show", help="列出一年的工作日安排（节假日、调休）及其来源。")
@click.argument("year", type=click.IntRange(2000, 2100))
@with_appcontext
def show_command(year: int) -> None:
    import chinese_calendar

    calendar = services.year_calendar(get_session(), year)
    click.echo(f"{year}年：工作日 {calendar.working_day_count} 天")
    if calendar.is_published:
        click.echo(f"来源：国务院办公厅公布的节假日安排（chinesecalendar {chinese_calendar.__version__}）"
                   f"；办公室调整 {len(calendar.overrides)} 天")
    else:
        click.echo(f"警告：{year}年的节假日安排尚未收录，暂按周一至周五计算；公布后请在“工作日日历”页面录入调休"
                   f"；办公室调整 {len(calendar.overrides)} 天")
    source = {DaySource.override: "办公室调整", DaySource.published: "公布安排", DaySource.weekdays: "周一至周五"}
    click.echo("节假日（工作日放假）：")
    for day in calendar.holidays:
        click.echo(f"  {day.day:%Y-%m-%d} 周{'一二三四五六日'[day.day.weekday()]} {day.note or '休息'}（{source[day.source]}）")
    click.echo("调休上班（周末上班）：")
    for day in calendar.makeup_days:
        click.echo(f"  {day.day:%Y-%m-%d} 周{'一二三四五六日'[day.day.weekday()]} {day.note or '上班'}（{source[day.source]}）")
    if calendar.overrides:
        click.echo("办公室调整：")
        for override in calendar.overrides:
            click.echo(f"  {override.day:%Y-%m-%d} {'上班' if override.is_working_day else '休息'} {override.note}")
