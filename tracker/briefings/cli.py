"""`tracker briefing publish` and `tracker briefing list`."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker import time
from tracker.accounts.services import COMMAND_LINE
from tracker.briefings.models import BriefingStatus
from tracker.briefings.services import archive, drafts, publishing
from tracker.briefings.services.assembly import default_title
from tracker.db import get_session
from tracker.errors import Conflict, Invalid, NotFound
from tracker.reporting.services import rounds


@click.group("briefing", help="督查通报。")
def briefing_cli() -> None:
    pass


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


@briefing_cli.command("publish", help="为一轮调度编发一期督查通报（自由撰写部分留空），当场生成 PDF 并存档；"
                                      "最后一行输出 PDF 的路径。")
@click.option("--round", "round_id", required=True, type=int, help="调度编号（见 tracker round list 第一列）。")
@click.option("--evaluation", "evaluation_id", type=int, default=None, help="附上这次能耗强度评价的结果（可选）。")
@with_appcontext
def publish_command(round_id: int, evaluation_id: int | None) -> None:
    session = get_session()
    try:
        reporting_round = rounds.get_round(session, round_id, actor=COMMAND_LINE)
    except NotFound:
        _fail(f"没有编号为 {round_id} 的调度")
    now = time.now()
    draft = drafts.Draft(round_id=reporting_round.id, evaluation_id=evaluation_id,
                         title=default_title(reporting_round), issue_date=time.local_date(now))
    try:
        briefing = drafts.create_briefing(session, draft, actor=COMMAND_LINE, now=now)
        press = publishing.Press.from_config(current_app.config, current_app.static_folder)
        briefing = publishing.publish_briefing(session, briefing, press=press, actor=COMMAND_LINE, now=time.now())
    except (Invalid, Conflict) as exc:
        _fail(f"无法发布通报：{exc.message}")
    if briefing.status is not BriefingStatus.published:
        _fail(f"生成 PDF 失败，通报没有发布：{briefing.render_error}")
    click.echo(f"已发布督查通报{briefing.number_label}“{briefing.title}”：{briefing.pdf_page_count} 页，"
               f"sha256 {briefing.pdf_sha256}")
    click.echo(str(archive.stored_path(current_app.config["STORAGE_DIR"], briefing.pdf_stored_name).resolve()))


@briefing_cli.command("list", help="列出全部督查通报：期号、状态、标题、PDF 路径，每期一行。")
@with_appcontext
def list_command() -> None:
    session = get_session()
    storage = current_app.config["STORAGE_DIR"]
    page, size = 1, 500
    while True:
        rows, total = drafts.list_briefings(session, actor=COMMAND_LINE, page=page, size=size)
        for briefing, _round_label in rows:
            number = briefing.number_label if briefing.number else "（未编号）"
            path = (str(archive.stored_path(storage, briefing.pdf_stored_name).resolve())
                    if briefing.pdf_stored_name else "—")
            click.echo("\t".join([number, briefing.status.label, briefing.title, path]))
        if page * size >= total:
            break
        page += 1
