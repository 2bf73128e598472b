"""A supervision briefing in a real browser: the office drafts it with the live preview, publishes it, the worker
renders the PDF while the page waits, and the PDF downloads under its Chinese name with its archived bytes."""
from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from tracker import time
from tracker.accounts.services import COMMAND_LINE
from tracker.briefings.models import Briefing, BriefingStatus
from tracker.briefings.services import publishing
from tracker.reporting.services import rounds
from tracker.tasks.models import Plan

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def reporting_round(live_server):
    with live_server.session() as session:
        plan = session.exec(select(Plan).where(Plan.slug == live_server.plan_slug)).one()
        opened = rounds.open_round(session, plan, label="2025年第三季度调度", period_start=date(2025, 7, 1),
                                   period_end=date(2025, 9, 30), due_date=date(2025, 10, 10), actor=COMMAND_LINE,
                                   now=time.now())
        return opened.id


def run_worker(live_server) -> Briefing | None:
    """What `tracker scheduler` does every few seconds: claim a queued render job and publish its briefing."""
    press = publishing.Press.from_config(live_server.app.config, live_server.app.static_folder)
    with live_server.session() as session:
        return publishing.render_next_briefing(session, press=press, worker="browser-test", now=time.now())


def test_the_office_drafts_previews_publishes_and_downloads_a_briefing(browser_page, live_server, login_as, shot,
                                                                       reporting_round):
    page = browser_page
    login_as("office")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="督查通报").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("督查通报")
    page.get_by_role("link", name="起草通报").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("起草督查通报")
    expect(page.get_by_label("标题")).to_have_value("关于2025年第三季度调度进展情况的通报")

    preview = page.frame_locator("iframe[name=briefing-preview]")
    expect(preview.get_by_text("二、重点任务进展")).to_be_visible()
    page.get_by_label("存在问题").fill("一是个别单位<b>报送</b>不及时。")
    expect(preview.get_by_text("一是个别单位<b>报送</b>不及时。")).to_be_visible()
    shot("draft-with-preview")

    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("通报草稿已保存")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/briefings/\d+$"))
    briefing_id = int(page.url.rsplit("/", 1)[1])
    expect(preview.get_by_text("一是个别单位<b>报送</b>不及时。")).to_be_visible()

    page.get_by_role("button", name="保存并发布").click()
    expect(page.get_by_role("heading", name="正在生成 PDF")).to_be_visible()
    shot("rendering")
    published = run_worker(live_server)
    assert published is not None and published.id == briefing_id
    assert published.status is BriefingStatus.published, published.render_error

    download_link = page.get_by_role("link", name="下载 PDF")
    expect(download_link).to_be_visible(timeout=15_000)  # app.js polls the status and reloads the page
    expect(page.get_by_text(f"{published.year}年第{published.number}期").first).to_be_visible()
    expect(page.get_by_text("一是个别单位<b>报送</b>不及时。")).to_be_visible()
    shot("published")

    with page.expect_download() as caught:
        download_link.click()
    download = caught.value
    assert download.suggested_filename == (f"督查通报{published.year}年第{published.number}期 "
                                           "关于2025年第三季度调度进展情况的通报.pdf")
    data = open(download.path(), "rb").read()
    assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == published.pdf_sha256


def test_a_leader_reads_the_dashboard_with_its_charts(browser_page, live_server, login_as, shot, reporting_round):
    page = browser_page
    login_as("leader")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="领导看板").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("领导看板")
    expect(page.get_by_role("heading", name="任务红黄绿灯")).to_be_visible()
    page.wait_for_load_state("load")  # every <img> has loaded (or failed) by then
    for alt in ("各部分任务红黄绿灯图", "迟报和逾期未报最多的单位图"):
        image = page.get_by_alt_text(alt)
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    shot("dashboard")
