"""`tracker briefing publish` and `tracker briefing list`: other tools read their output."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from tracker.briefings.models import Briefing, BriefingStatus
from tracker.briefings import pdf
from tracker.briefings.services import archive
from tests.briefings.conftest import PUBLISHED_AT


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The command runs on 2025-10-20 in Beijing, ten days after the round's due date."""
    monkeypatch.setattr("tracker.time.now", lambda: PUBLISHED_AT)


def test_publish_prints_the_pdf_path_on_its_last_line_and_the_file_exists(runner, city, session, app):
    result = runner.invoke(args=["briefing", "publish", "--round", str(city.round.id),
                                 "--evaluation", str(city.evaluation.id)])
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.splitlines()[-1])
    assert path.is_absolute() and path.is_file() and path.read_bytes().startswith(b"%PDF")
    assert "2025-001-" in path.name
    briefing = session.exec(select(Briefing).order_by(Briefing.id.desc())).first()
    assert briefing.status is BriefingStatus.published and briefing.title == "关于2025年第三季度调度进展情况的通报"
    assert briefing.opening == briefing.problems == briefing.next_steps == ""
    assert path == archive.stored_path(app.config["STORAGE_DIR"], briefing.pdf_stored_name).resolve()
    assert archive.sha256_of(path.read_bytes()) == briefing.pdf_sha256
    assert f"已发布督查通报{briefing.number_label}" in result.stdout


def test_publish_refuses_an_unknown_round_on_stderr_with_a_failing_exit(runner, city):
    result = runner.invoke(args=["briefing", "publish", "--round", "999999"])
    assert result.exit_code == 1 and "没有编号为 999999 的调度" in result.stderr


def test_a_failed_render_on_the_command_line_exits_1_with_the_reason(runner, city, monkeypatch):
    def broken(html, **options):
        raise pdf.RenderError("服务器缺少字体")

    monkeypatch.setattr("tracker.briefings.services.publishing.pdf.render_pdf", broken)
    result = runner.invoke(args=["briefing", "publish", "--round", str(city.round.id)])
    assert result.exit_code == 1 and "生成 PDF 失败，通报没有发布：服务器缺少字体" in result.stderr


def test_list_prints_one_line_per_briefing_with_number_status_title_and_path(runner, city, fake_renderer):
    assert runner.invoke(args=["briefing", "publish", "--round", str(city.round.id)]).exit_code == 0
    published = runner.invoke(args=["briefing", "publish", "--round", str(city.round.id)])
    lines = runner.invoke(args=["briefing", "list"]).stdout.splitlines()
    assert len(lines) == 2
    number, status, title, path = lines[0].split("\t")
    assert (number, status, title) == ("2025年第2期", "已发布", "关于2025年第三季度调度进展情况的通报")
    assert path == published.stdout.splitlines()[-1]
    assert lines[1].split("\t")[:2] == ["2025年第1期", "已发布"]
