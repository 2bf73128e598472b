"""Issue 4, in a real browser: a report goes round the review cycle and the task's light changes.

The office opens a round; 市工业和信息化局 (a responsible unit of 二、（二）产业园区节能环保提升工程) writes its
progress and a value for the task's target, attaches 督查报告（第一季度）.pdf and submits; 市发展改革委 (the lead
unit) returns it with a reason; the unit reads the reason, fixes the text and resubmits; the lead accepts it and
submits the consolidated status (推进中, 95 %); a coordinator accepts the consolidated report.

The light: the task's only target, 园区重点企业清洁生产审核比例 ≥ 95 % by 2025, has a deadline that has passed
(the plan ends in 2025) with no accepted value, so the rules show 红灯 until a value that meets it is accepted; with
the unit's 96 % accepted and the lead's 95 % against a pro-rata path of 100 % (within the 10-point tolerance) the
task is 绿灯. Both the review page and the round page show the change.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_out as user_menu_log_out, minimal_pdf, nav_link
from tracker import time

pytestmark = pytest.mark.browser

TASK_TITLE = "产业园区节能环保提升工程"
TASK_LINK = f"2.2 {TASK_TITLE}"
TARGET = "园区重点企业清洁生产审核比例"
RESPONSIBLE, RESPONSIBLE_NAME = "gxj", "市工业和信息化局"
LEAD = "fgw"
ATTACHMENT_NAME = "督查报告（第一季度）.pdf"
FIRST_TEXT = "已组织园区重点企业开展清洁生产审核。"
FIXED_TEXT = ("本季度组织全市6个工业园区的重点企业开展清洁生产审核，应审核企业52家，已完成审核50家，"
              "审核比例96%；其余2家已签订审核合同，预计下季度完成。")
RETURN_REASON = "请写明应审核企业数、已完成审核的企业数和审核比例的计算口径。"
NARRATIVE = "各责任单位报告已审核。园区重点企业清洁生产审核比例达到96%，高于95%的目标；下一步督促剩余企业完成审核。"


def nav(page, name: str) -> None:
    """Click the main navigation's link `name`, opening its drop-down menu first when it is in one."""
    nav_link(page, name).click()


def log_out(page) -> None:
    user_menu_log_out(page)
    expect(page).to_have_url(re.compile(r"/login"))


def review_light(page):
    """The light on the task's review page (红黄绿灯 card)."""
    return page.locator("section.card", has=page.get_by_role("heading", name="红黄绿灯")).locator(".light-line .light").first


def round_row_light(page):
    """The light in the task's row on the round page (按任务 tab)."""
    return page.locator("table tbody tr", has=page.get_by_role("link", name=re.compile(TASK_TITLE))).locator(".light")


def test_a_report_is_returned_fixed_accepted_and_consolidated_and_the_light_changes(browser_page, live_server,
                                                                                     login_as, shot):
    page = browser_page
    due = time.local_date(time.now()) + timedelta(days=14)  # not yet due: no report is late

    # --- the office opens a round (name and period as proposed, due date two weeks from today) ---
    login_as("office")
    nav(page, "定期调度")
    page.get_by_role("link", name="开启新一轮调度").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("开启调度")
    label = page.get_by_label("调度名称").input_value()
    assert re.fullmatch(r"\d{4}年第[一二三四]季度调度", label), label
    page.get_by_label("报送截止日期").fill(due.isoformat())
    shot("office-opens-round")
    page.get_by_role("button", name="开启调度").click()
    expect(page.get_by_text(f"已开启“{label}”，各单位可以开始填报。")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/rounds/\d+$"))
    round_url = page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text(label)
    # before anything is reported: the target's 2025 deadline has passed unmet → 红灯
    expect(round_row_light(page)).to_have_text("红灯")
    expect(page.locator("table tbody tr", has=page.get_by_role("link", name=re.compile(TASK_TITLE)))).to_contain_text(
        f"目标“{TARGET}”期限（2025年）已过，尚未达到")
    shot("round-page-light-before")
    log_out(page)

    # --- the responsible unit writes its report, attaches a PDF and submits ---
    login_as(RESPONSIBLE)
    expect(page.get_by_role("heading", level=1)).to_have_text("我的待办")
    owed = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("本单位待报送")))
    expect(owed.get_by_role("link", name=TASK_LINK)).to_be_visible()
    shot("unit-todo")
    owed.get_by_role("link", name=TASK_LINK).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TASK_TITLE)
    expect(page.get_by_text("未开始").first).to_be_visible()
    page.get_by_label("工作进展").fill(FIRST_TEXT)
    page.get_by_label(TARGET).fill("96")
    shot("unit-writes-report")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已保存，尚未报送。")).to_be_visible()
    expect(page.get_by_label("工作进展")).to_have_value(FIRST_TEXT)
    expect(page.get_by_label(TARGET)).to_have_value("96")

    page.get_by_label("上传佐证材料").set_input_files(
        {"name": ATTACHMENT_NAME, "mimeType": "application/pdf", "buffer": minimal_pdf()})
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.get_by_text(f"已上传“{ATTACHMENT_NAME}”。")).to_be_visible()
    attachments = page.locator("#attachments")
    expect(attachments.get_by_role("link", name=ATTACHMENT_NAME)).to_be_visible()
    shot("unit-attached-pdf")

    page.get_by_role("button", name="报送", exact=True).click()  # data-confirm: accepted by the harness
    expect(page.get_by_text("已报送，等待牵头单位审核。")).to_be_visible()
    expect(page.get_by_text(re.compile(r"已于 .* 报送，正在等待牵头单位审核"))).to_be_visible()
    expect(page.get_by_label("工作进展")).to_have_count(0)  # read-only until reviewed
    shot("unit-submitted")
    log_out(page)

    # --- the lead unit returns it with a reason ---
    login_as(LEAD)
    to_review = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("等待我单位审核的报告")))
    expect(to_review.locator("tr", has_text=RESPONSIBLE_NAME)).to_be_visible()
    shot("lead-todo")
    to_review.get_by_role("link", name=TASK_LINK).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TASK_TITLE)
    expect(review_light(page)).to_have_text("红灯")  # submitted, not yet accepted: the target is still unmet
    unit_report = page.locator("article.unit-report", has=page.get_by_role("heading", name=re.compile(RESPONSIBLE_NAME)))
    expect(unit_report).to_contain_text(FIRST_TEXT)
    expect(unit_report.get_by_role("link", name=ATTACHMENT_NAME)).to_be_visible()
    expect(unit_report.locator("table.report-values")).to_contain_text("96")
    shot("lead-review-page-light-before")
    with page.expect_download() as caught:  # the evidence downloads under its Chinese name, byte for byte
        unit_report.get_by_role("link", name=ATTACHMENT_NAME).click()
    assert caught.value.suggested_filename == ATTACHMENT_NAME
    assert open(caught.value.path(), "rb").read() == minimal_pdf()
    unit_report.get_by_label(re.compile("退回理由")).fill(RETURN_REASON)
    shot("lead-writes-return-reason")
    unit_report.get_by_role("button", name="退回（退办）").click()
    expect(page.get_by_text("已退回这份报告，对方会看到退回理由。")).to_be_visible()
    unit_report = page.locator("article.unit-report", has=page.get_by_role("heading", name=re.compile(RESPONSIBLE_NAME)))
    expect(unit_report).to_contain_text(f"已退回：{RETURN_REASON}")
    shot("lead-returned")
    log_out(page)

    # --- the unit sees the reason, fixes the text and resubmits ---
    login_as(RESPONSIBLE)
    returned = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("被退回、需要修改的报告")))
    expect(returned).to_contain_text(RETURN_REASON)
    shot("unit-todo-returned")
    returned.get_by_role("link", name=TASK_LINK).click()
    expect(page.get_by_role("alert").filter(has_text="牵头单位退回了这份报告")).to_contain_text(RETURN_REASON)
    expect(page.get_by_label("工作进展")).to_have_value(FIRST_TEXT)
    expect(page.locator("#attachments").get_by_role("link", name=ATTACHMENT_NAME)).to_be_visible()
    page.get_by_label("工作进展").fill(FIXED_TEXT)
    shot("unit-fixes-report")
    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.get_by_text("已报送，等待牵头单位审核。")).to_be_visible()
    expect(page.locator(".report-text").first).to_have_text(FIXED_TEXT)
    shot("unit-resubmitted")
    log_out(page)

    # --- the lead accepts it and submits the consolidated status ---
    login_as(LEAD)
    page.locator("section.card", has=page.get_by_role("heading", name=re.compile("等待我单位审核的报告"))) \
        .get_by_role("link", name=TASK_LINK).click()
    unit_report = page.locator("article.unit-report", has=page.get_by_role("heading", name=re.compile(RESPONSIBLE_NAME)))
    expect(unit_report).to_contain_text(FIXED_TEXT)
    shot("lead-reviews-resubmission")
    unit_report.get_by_role("button", name="采纳").click()
    expect(page.get_by_text("已采纳这份报告。")).to_be_visible()
    unit_report = page.locator("article.unit-report", has=page.get_by_role("heading", name=re.compile(RESPONSIBLE_NAME)))
    expect(unit_report.locator(".badge", has_text="已采纳")).to_be_visible()
    shot("lead-accepted")

    consolidation = page.locator("#task-report")
    consolidation.get_by_label("推进状态").select_option(label="推进中")
    consolidation.get_by_label("完成进度（%）").fill("95")
    consolidation.get_by_label("汇总情况").fill(NARRATIVE)
    shot("lead-writes-consolidated-report")
    consolidation.get_by_role("button", name="报送汇总情况").click()
    expect(page.get_by_text("汇总情况已报送，等待统筹单位审核。")).to_be_visible()
    facts = page.locator("#task-report dl.facts")
    expect(facts).to_contain_text("推进中")
    expect(facts).to_contain_text("95%")
    expect(page.locator("#task-report .report-text")).to_have_text(NARRATIVE)

    # after: a value that meets the target is accepted and the lead's 95 % is within the path → 绿灯
    expect(review_light(page)).to_have_text("绿灯")
    expect(page.locator("section.card", has=page.get_by_role("heading", name="红黄绿灯"))).not_to_contain_text("已过")
    shot("review-page-light-after")
    page.get_by_role("link", name=label).first.click()
    expect(page).to_have_url(round_url)
    expect(round_row_light(page)).to_have_text("绿灯")
    shot("round-page-light-after")
    log_out(page)

    # --- a coordinating unit accepts the consolidated report ---
    login_as("coord-fgw")
    waiting = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("等待统筹单位审核的汇总报告")))
    expect(waiting).to_contain_text("推进中，完成 95%")
    shot("coordinator-todo")
    waiting.get_by_role("link", name=re.compile(TASK_TITLE)).click()
    page.get_by_role("button", name="采纳汇总报告").click()
    expect(page.get_by_text("已采纳汇总报告。")).to_be_visible()
    expect(page.locator("#task-report dl.facts .badge", has_text="已采纳")).to_be_visible()
    expect(review_light(page)).to_have_text("绿灯")
    shot("coordinator-accepted")
