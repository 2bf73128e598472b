"""The `tracker` command: Flask's group plus each domain's sub-commands."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from tracker import migrate


def _create_app():
    from tracker import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True,
             help="规划任务督办系统（Plan Tracker）的命令行。")
def main() -> None:
    pass


@click.group("db", help="数据库结构。")
def db_cli() -> None:
    pass


@db_cli.command("upgrade", help="创建或迁移 TRACKER_DATABASE_URL 处的数据库结构。")
@with_appcontext
def db_upgrade() -> None:
    url = current_app.config["DATABASE_URL"]
    migrate.upgrade(url)
    click.echo(f"数据库结构已是最新：{_safe_url(url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


def register(app) -> None:
    from tracker.accounts.cli import user_cli
    from tracker.agencies.cli import contacts_cli, units_cli
    from tracker.briefings.cli import briefing_cli
    from tracker.demo import demo_cli
    from tracker.evaluations.cli import energy_cli, evaluation_cli, measures_cli
    from tracker.maintenance import backup_command, restore_command
    from tracker.reminders.cli import calendar_cli, reminders_cli
    from tracker.reporting.cli import round_cli
    from tracker.scheduler import scheduler_command
    from tracker.tasks.cli import plan_cli

    for command in (db_cli, plan_cli, units_cli, contacts_cli, user_cli, round_cli, demo_cli, reminders_cli,
                    calendar_cli, scheduler_command, energy_cli, measures_cli, evaluation_cli, briefing_cli,
                    backup_command, restore_command):
        app.cli.add_command(command)
