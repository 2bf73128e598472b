"""Issue 9, item 1: the whole supervision cycle in a real browser, from the plan document to the leader's dashboard.

The database starts WITHOUT a plan (`live_server_without_plan`: the unit directory and the staff accounts only), so
the office imports the document itself, as it would on a new installation. Then:

1. the office uploads seed/hohhot-energy-saving-2021-2025.txt, checks the preview and confirms the import;
2. the office opens a round due in two weeks, and replaces its own unit's demo contact with its real address (the
   escalation copies go to the units' contacts);
3. 新城区 reports on 二、（三）城镇绿色节能改造工程 with a PDF; 回民区 (another responsible unit) stays late;
4. the scheduler's reminder pass runs at two chosen moments — the first working day after the due date (催办 to
   every unit still owing) and the fifth (催办 again, now copied to the lead units, the office and the coordinating
   units: 逾期抄送) — and the office reads both in 提醒邮件 (mailbox mode: no SMTP server configured);
5. 市住房和城乡建设局, the lead unit, accepts 新城区's report and submits the consolidated status;
6. a coordinator enters the twelve areas' energy data for 2020 and 2025 and the 2025 measures scores in the browser
   grids, creates, computes and publishes the 2025 annual evaluation, and opens an area's result page;
7. the office drafts a briefing on the round with that evaluation (live preview), publishes it — the worker process
   renders the PDF — and downloads it;
8. the leader reads the dashboard with its charts.

Steps that belong to other processes are called from the test, against the live server's database, exactly as
those processes call them: creating the departments' demo accounts after the import (`tracker demo seed`, an
administrator's command), the reminder pass (`run_once`, what `tracker scheduler` runs) and rendering the briefing
(`render_next_briefing`, what the scheduler's worker runs). Everything else is clicks and typing.
"""
from __future__ import annotations

import re
import subprocess
from datetime import datetime, time as clock_time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_out as user_menu_log_out, minimal_pdf, nav_link
from tests.conftest import HOHHOT
from tracker import time
from tracker.briefings.services import publishing
from tracker.reminders.mailer import MailboxMailer
from tracker.reminders.services import run_once
from tracker.time import PLAN_TZ, load_calendar

pytestmark = pytest.mark.browser

TASK_TITLE = "城镇绿色节能改造工程"
TASK_LINK = f"2.3 {TASK_TITLE}"
LEAD, LEAD_NAME = "zjj", "市住房和城乡建设局"
REPORTING, REPORTING_NAME = "xcq", "新城区"
LATE_NAME = "回民区"
OFFICE_UNIT = "市政府办公室"
EVIDENCE_NAME = "新城区既有建筑节能改造验收材料.pdf"
PROGRESS_TEXT = ("本季度完成既有居住建筑节能改造36万平方米，涉及小区12个；新建建筑全部执行绿色建筑标准，"
                 "星级绿色建筑项目3个。")
NARRATIVE = ("各责任单位报告已审核。全市既有居住建筑节能改造累计完成约620万平方米，新建建筑执行绿色建筑标准比例100%；"
             "回民区尚未报送，已催办。")
EVALUATED_YEAR = 2025

#: 附件1's twelve areas: 2020 energy (吨标准煤), 2020 GDP (万元), feedstock 2020 and 2025 (吨标准煤), new renewable
#: electricity by 2025 (吨标准煤), the intensity decline reached by 2025, the 2025 measures score (of 60) and its note.
#: 回民区 falls short of its 11 % basic target (一票否决); the city's row is the sum of the others.
AREAS = [
    ("新城区", 1_050_000, 3_950_000, 0, 0, 21_000, "0.128", 54, "建筑节能改造和公共机构节能成效明显"),
    ("回民区", 620_000, 2_480_000, 0, 0, 9_000, "0.095", 41, "重点用能单位监管不到位，节能监察整改滞后"),
    ("玉泉区", 690_000, 2_210_000, 0, 0, 12_000, "0.116", 50, "各项措施基本落实"),
    ("赛罕区", 1_320_000, 5_630_000, 0, 0, 30_000, "0.132", 55, "绿色交通和建筑节能推进有力"),
    ("土左旗", 2_350_000, 1_980_000, 120_000, 135_000, 64_000, "0.124", 49, "淘汰落后产能按计划完成"),
    ("托克托县", 9_800_000, 2_420_000, 0, 0, 180_000, "0.141", 52, "煤电机组节能改造完成"),
    ("和林县", 1_460_000, 1_210_000, 40_000, 46_000, 35_000, "0.123", 48, "措施落实情况一般"),
    ("清水河县", 1_120_000, 650_000, 60_000, 58_000, 22_000, "0.134", 51, "园区循环化改造推进较好"),
    ("武川县", 380_000, 720_000, 0, 0, 16_000, "0.126", 47, "农牧业节能措施落实"),
    ("经济技术开发区", 3_300_000, 3_910_000, 210_000, 260_000, 70_000, "0.136", 56, "清洁生产审核全覆盖"),
    ("和林格尔新区", 290_000, 480_000, 0, 0, 14_000, "0.145", 57, "数据中心能效达到先进水平"),
]
GDP_GROWTH = Decimal("1.32")  # 2020 → 2025 at comparable prices, about 5.7 % a year
FIELDS = ("能源消费总量", "地区生产总值", "新增可再生能源电力消费量", "原料用能")


def energy_rows() -> dict[int, dict[str, dict[str, int]]]:
    """{year: {area: {field label: value}}} for 2020 and the evaluated year, the city being the sum of the areas."""
    years: dict[int, dict[str, dict[str, int]]] = {2020: {}, EVALUATED_YEAR: {}}
    for name, energy, gdp, feed_2020, feed_now, renewable, decline, *_ in AREAS:
        intensity = Decimal(energy - feed_2020) / gdp
        gdp_now = int((gdp * GDP_GROWTH).quantize(Decimal(1), ROUND_HALF_UP))
        assessed_now = intensity * (1 - Decimal(decline)) * gdp_now
        total_now = int((assessed_now + renewable + feed_now).quantize(Decimal(1), ROUND_HALF_UP))
        years[2020][name] = dict(zip(FIELDS, (energy, gdp, 0, feed_2020)))
        years[EVALUATED_YEAR][name] = dict(zip(FIELDS, (total_now, gdp_now, renewable, feed_now)))
    for rows in years.values():
        rows["呼和浩特市"] = {field: sum(row[field] for row in rows.values()) for field in FIELDS}
    return years


def nav(page, name: str) -> None:
    """Click the main navigation's link `name`, opening its drop-down menu first when it is in one."""
    nav_link(page, name).click()


def log_out(page) -> None:
    user_menu_log_out(page)
    expect(page).to_have_url(re.compile(r"/login"))


def card(page, heading: str):
    """The section.card whose heading matches `heading` (a regex)."""
    return page.locator("section.card", has=page.get_by_role("heading", name=re.compile(heading)))


def all_mail_rows(page) -> list[list[str]]:
    """On 提醒邮件: [业务日期, 主题, 收件人, 状态] of every row, page after page (the list is paginated)."""
    rows: list[list[str]] = []
    while True:
        rows += page.locator("table.table tbody tr").evaluate_all(
            "trs => trs.map(tr => [...tr.cells].slice(0, 4).map(td => td.innerText.trim()))")
        following = page.get_by_role("link", name="下一页")
        if following.count() == 0:
            return rows
        following.click()


def open_mail(page, subject: str) -> None:
    """From 提醒邮件, page through the list to the message and open it, as the office would."""
    nav(page, "提醒邮件")
    while page.get_by_role("link", name=subject).count() == 0:
        page.get_by_role("link", name="下一页").click()
    page.get_by_role("link", name=subject).first.click()


def reminder_pass(live_server, moment: datetime):
    """What `tracker scheduler` does on its reminder ticks (plan the digests, then send), at a chosen moment; with no
    SMTP server configured the mail goes to the mailbox folder the office reads in 提醒邮件."""
    config = live_server.app.config
    with live_server.session() as session:
        return run_once(session, now=moment, mailer=MailboxMailer(config["MAILBOX_DIR"]), base_url=live_server.url,
                        sender=config["MAIL_SENDER"])


@pytest.fixture(scope="module")
def live_server(live_server_without_plan):
    """This module's server starts without a plan: the office imports it in the browser."""
    return live_server_without_plan


def test_the_whole_cycle_from_plan_document_to_leaders_dashboard(browser_page, live_server, login_as, shot):
    page = browser_page
    today = time.local_date(time.now())
    due = today + timedelta(days=14)

    # --- 1. the office imports the plan document -----------------------------------------------------------
    login_as("office")
    nav(page, "导入计划")
    expect(page.get_by_role("heading", level=1)).to_have_text("导入计划")
    page.get_by_label("计划文件").set_input_files(str(HOHHOT))
    shot("office-chooses-plan-document")
    page.get_by_role("button", name="上传并预览").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("核对导入内容")
    expect(page.get_by_role("heading", name="读出的任务（21 项）")).to_be_visible()
    tasks_table = card(page, r"读出的任务")
    expect(tasks_table.locator("tr", has_text=TASK_TITLE)).to_contain_text(LEAD_NAME)
    expect(card(page, "附件")).to_contain_text("地区目标 12 个，行业指标 15 个。")
    shot("import-preview")
    page.get_by_role("button", name="确认导入").click()
    expect(page).to_have_url(re.compile(rf"/plans/{live_server.plan_slug}$"))
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("节能减排")
    shot("plan-imported")
    nav(page, "任务清单")
    expect(page.get_by_text("共 21 项任务")).to_be_visible()
    shot("task-list")
    # The departments named in the plan get their demo accounts from `tracker demo seed`, which an administrator
    # runs after importing (README); the areas, the office, the coordinators and the leader had theirs already.
    live_server.seed_demo_accounts()
    assert {LEAD, REPORTING, "hmq"} <= set(live_server.accounts)

    # --- 2. the office opens a round, and sets its own unit's contact for the escalation copies ----------------
    nav(page, "定期调度")
    page.get_by_role("link", name="开启新一轮调度").click()
    label = page.get_by_label("调度名称").input_value()
    page.get_by_label("报送截止日期").fill(due.isoformat())
    shot("office-opens-round")
    page.get_by_role("button", name="开启调度").click()
    expect(page.get_by_text(f"已开启“{label}”，各单位可以开始填报。")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/rounds/\d+$"))
    shot("round-opened")

    nav(page, "单位目录")
    page.get_by_label("名称、简称或全称").fill(OFFICE_UNIT)
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name=OFFICE_UNIT, exact=True).click()
    # `tracker demo seed` gave the office's unit the demo address of the office account: the office puts its own in
    # its place, so the escalation copies go to exactly one real address
    demo_contact = page.get_by_role("row", name=re.compile(r"office@demo\.tracker\.local"))
    expect(demo_contact).to_have_count(1)
    demo_contact.get_by_role("link", name="编辑").click()
    page.get_by_label("姓名").fill("王督查")
    page.get_by_label("电子邮箱").fill("duchake@hhht.example.gov.cn")
    page.get_by_label("电话").fill("0471-4602345")
    shot("office-edits-its-contact")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("cell", name="duchake@hhht.example.gov.cn")).to_be_visible()
    expect(page.get_by_role("cell", name="office@demo.tracker.local")).to_have_count(0)
    shot("office-contact-saved")
    log_out(page)

    # --- 3. 新城区 reports with evidence; 回民区 does not -----------------------------------------------------
    login_as(REPORTING)
    card(page, "本单位待报送").get_by_role("link", name=TASK_LINK).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TASK_TITLE)
    page.get_by_label("工作进展").fill(PROGRESS_TEXT)
    page.get_by_label("既有居住建筑节能改造").fill("36")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已保存，尚未报送。")).to_be_visible()
    page.get_by_label("上传佐证材料").set_input_files(
        {"name": EVIDENCE_NAME, "mimeType": "application/pdf", "buffer": minimal_pdf("Acceptance records")})
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.get_by_text(f"已上传“{EVIDENCE_NAME}”。")).to_be_visible()
    shot("unit-report-with-evidence")
    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.get_by_text("已报送，等待牵头单位审核。")).to_be_visible()
    expect(page.get_by_role("link", name=EVIDENCE_NAME)).to_be_visible()
    shot("unit-submitted")
    log_out(page)

    # --- 4. the reminder pass at two chosen moments, then the office reads the mailbox -------------------------
    with live_server.session() as session:
        calendar = load_calendar(session)
    first_late = calendar.add_working_days(due, 1)   # 1 working day late: 催办
    fifth_late = calendar.add_working_days(due, 5)   # 5 working days late: 催办 copied to leads and the office
    for day in (first_late, fifth_late):
        result = reminder_pass(live_server, datetime.combine(day, clock_time(10, 0), tzinfo=PLAN_TZ))
        assert result.queued > 0 and result.sending.sent == result.queued, result.line()

    login_as("office")
    nav(page, "提醒邮件")
    expect(page.get_by_text("未配置邮件服务器")).to_be_visible()
    shot("mail-list")
    rows = all_mail_rows(page)
    chase = f"【催办】{LATE_NAME}：21 项报送已逾期"
    office_copy = re.compile(rf"^【逾期抄送】{OFFICE_UNIT}：\d+ 个单位逾期未报$")
    lead_copy = re.compile(rf"^【催办】{LEAD_NAME}：\d+ 项报送已逾期（含逾期抄送）$")
    assert [first_late.isoformat(), chase, "hmq@demo.tracker.local", "已发送"] in rows
    assert [fifth_late.isoformat(), chase, "hmq@demo.tracker.local", "已发送"] in rows
    escalations = [row for row in rows if office_copy.match(row[1])]
    assert [(r[0], r[2], r[3]) for r in escalations] == [(fifth_late.isoformat(), "duchake@hhht.example.gov.cn",
                                                          "已发送")], escalations
    assert [(r[0], r[2], r[3]) for r in rows if lead_copy.match(r[1])] == [
        (fifth_late.isoformat(), "zjj@demo.tracker.local", "已发送")]
    assert not [row for row in rows if row[1].startswith(f"【催办】{REPORTING_NAME}：21 项")]  # it reported one
    shot("mail-list-last-page")
    mailbox_files = list(live_server.app.config["MAILBOX_DIR"].rglob("*.eml"))
    assert len(mailbox_files) == len(rows)

    open_mail(page, escalations[0][1])
    expect(page.get_by_role("heading", level=1)).to_have_text(escalations[0][1])
    body = page.locator("pre.mail-text")
    expect(body).to_contain_text("抄送：以下单位逾期未报，请督促落实。")
    expect(body).to_contain_text(f"{LATE_NAME}：{TASK_LINK}，已逾期 5 个工作日")
    expect(body).not_to_contain_text(f"{REPORTING_NAME}：{TASK_LINK}")
    expect(page.frame_locator("iframe.mail-frame").get_by_text(f"{LATE_NAME}").first).to_be_visible()
    shot("office-reads-escalation")
    open_mail(page, chase)
    expect(page.locator("pre.mail-text")).to_contain_text("贵单位有报送事项已经逾期，请尽快登录系统填报。")
    expect(page.locator("pre.mail-text")).to_contain_text(f"{TASK_LINK}（责任单位，未填报）")
    shot("office-reads-chase")
    log_out(page)

    # --- 5. the lead unit accepts 新城区's report and consolidates -------------------------------------------
    login_as(LEAD)
    card(page, "等待我单位审核的报告").get_by_role("link", name=TASK_LINK).click()
    unit_report = page.locator("article.unit-report", has=page.get_by_role("heading", name=re.compile(REPORTING_NAME)))
    expect(unit_report).to_contain_text(PROGRESS_TEXT)
    expect(unit_report.get_by_role("link", name=EVIDENCE_NAME)).to_be_visible()
    unit_report.get_by_role("button", name="采纳").click()
    expect(page.get_by_text("已采纳这份报告。")).to_be_visible()
    consolidation = page.locator("#task-report")
    consolidation.get_by_label("推进状态").select_option(label="推进中")
    consolidation.get_by_label("完成进度（%）").fill("78")
    consolidation.get_by_label("汇总情况").fill(NARRATIVE)
    shot("lead-consolidates")
    consolidation.get_by_role("button", name="报送汇总情况").click()
    expect(page.get_by_text("汇总情况已报送，等待统筹单位审核。")).to_be_visible()
    expect(page.locator("#task-report dl.facts")).to_contain_text("78%")
    shot("lead-consolidated")
    log_out(page)

    # --- 6. a coordinator enters energy data and measures scores, and runs the annual evaluation ----------------
    login_as("coord-fgw")
    nav(page, "能耗评价")
    page.get_by_role("link", name="能源数据", exact=True).click()
    for year, rows_of_year in energy_rows().items():
        page.get_by_role("link", name=f"{year}（基期）" if year == 2020 else str(year), exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"{year}年")
        for area, values in rows_of_year.items():
            for field, value in values.items():
                page.get_by_label(f"{area} {field}", exact=True).fill(str(value))
        shot(f"energy-data-{year}")
        page.get_by_role("button", name=f"保存 {year} 年数据").click()
        expect(page.get_by_text(f"已保存 {year} 年能源数据（改动 12 个地区）。")).to_be_visible()
    shot("energy-data-saved")

    page.get_by_role("link", name="节能措施评分", exact=True).click()
    page.get_by_role("link", name=str(EVALUATED_YEAR), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"节能措施评分 · {EVALUATED_YEAR}年")
    for area, *_, score, note in AREAS + [("呼和浩特市", 0, 0, 0, 0, 0, "0", 52, "全市节能措施总体落实较好")]:
        page.get_by_label(f"{area} 措施得分", exact=True).fill(str(score))
        page.get_by_label(f"{area} 评分说明", exact=True).fill(note)
    shot("measures-scores")
    page.get_by_role("button", name=f"保存 {EVALUATED_YEAR} 年评分").click()
    expect(page.get_by_text(f"已保存 {EVALUATED_YEAR} 年节能措施得分（改动 12 个地区）。")).to_be_visible()

    page.get_by_role("link", name="评价与结果", exact=True).click()
    page.get_by_label("评价类型").select_option(label="年度评价")
    page.get_by_label("评价年度").fill(str(EVALUATED_YEAR))
    shot("evaluation-new")
    page.get_by_role("button", name="新建", exact=True).click()
    expect(page.get_by_text(f"已新建{EVALUATED_YEAR}年年度评价（第 1 版）。")).to_be_visible()
    page.get_by_role("button", name="计算", exact=True).click()
    expect(page.get_by_text("已计算，结果在第 1 版。")).to_be_visible()
    results = card(page, "各地区能耗强度降低目标完成情况")
    expect(results.locator("tbody tr")).to_have_count(12)
    late_area = results.locator("tbody tr", has=page.get_by_role("link", name=LATE_NAME, exact=True))
    expect(late_area).to_contain_text("一票否决")
    expect(late_area).to_contain_text("未完成")
    expect(results.locator("tbody tr", has=page.get_by_role("link", name="和林格尔新区"))).to_contain_text("总量免考核")
    expect(results).not_to_contain_text("缺少")
    shot("evaluation-computed")
    page.get_by_role("button", name="发布本版本").click()
    expect(page.get_by_text("第 1 版已发布")).to_be_visible()
    shot("evaluation-published")

    results.get_by_role("link", name=REPORTING_NAME, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{REPORTING_NAME}：{EVALUATED_YEAR}年年度评价")
    inputs = card(page, "输入数据")
    expect(inputs).to_contain_text("2020年（基期）")
    expect(inputs).to_contain_text("1050000")
    expect(inputs).to_contain_text("建筑节能改造和公共机构节能成效明显")
    expect(card(page, "结论").locator(".badge").first).not_to_have_text("未评定")
    chart = page.get_by_alt_text(re.compile(f"{REPORTING_NAME}历年能耗强度累计降低率"))
    expect(chart).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=chart.element_handle())
    shot("area-result")
    log_out(page)

    # --- 7. the office drafts, previews, publishes and downloads a briefing -----------------------------------
    login_as("office")
    nav(page, "督查通报")
    page.get_by_role("link", name="起草通报").click()
    expect(page.get_by_label("通报的调度")).to_have_value(re.compile(r"\d+"))
    evaluation_option = page.locator("#evaluation_id option", has_text=f"{EVALUATED_YEAR}年年度评价")
    page.get_by_label("能耗强度评价（可选）").select_option(evaluation_option.get_attribute("value"))
    problems = f"一是{LATE_NAME}等单位逾期未报，经两次催办仍未报送。\n二是个别地区能耗强度降低进度滞后。"
    page.get_by_label("开头语").fill(f"现将{label}进展情况通报如下。")
    page.get_by_label("存在问题").fill(problems)
    page.get_by_label("下步工作").fill("督促逾期单位限期报送；对进度滞后的地区开展专项督查。")
    preview = page.frame_locator("iframe[name=briefing-preview]")
    expect(preview.get_by_text(f"一是{LATE_NAME}等单位逾期未报，经两次催办仍未报送。")).to_be_visible()
    expect(preview.get_by_text("和林格尔新区").first).to_be_visible()  # the evaluation's area ranking
    shot("briefing-draft-with-preview")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("通报草稿已保存")).to_be_visible()
    page.get_by_role("button", name="保存并发布").click()
    expect(page.get_by_role("heading", name="正在生成 PDF")).to_be_visible()
    shot("briefing-rendering")
    # The worker process (`tracker scheduler`, tracker/briefings/jobs.py) renders the queued briefing; the page polls.
    press = publishing.Press.from_config(live_server.app.config, live_server.app.static_folder)
    with live_server.session() as session:
        published = publishing.render_next_briefing(session, press=press, worker="browser-test", now=time.now())
        assert published is not None and published.render_error is None, published and published.render_error
        number_label = published.number_label
    download_link = page.get_by_role("link", name="下载 PDF")
    expect(download_link).to_be_visible(timeout=15_000)
    expect(page.locator(".briefing-archive")).to_contain_text(number_label)
    expect(page.get_by_text(f"一是{LATE_NAME}等单位逾期未报").first).to_be_visible()
    shot("briefing-published")
    with page.expect_download() as caught:
        download_link.click()
    download = caught.value
    name = download.suggested_filename
    assert name.startswith(f"督查通报{number_label}") and name.endswith(".pdf"), name
    assert re.search(r"[\u4e00-\u9fff]", name), name
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(download.path()), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert number_label in re.sub(r"\s+", "", text), text[:500]
    log_out(page)

    # --- 8. the leader reads the dashboard -------------------------------------------------------------------
    login_as("leader")
    nav(page, "领导看板")
    expect(page.get_by_role("heading", level=1)).to_have_text("领导看板")
    expect(page.get_by_role("heading", name="任务红黄绿灯")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(f"各地区能耗强度（{EVALUATED_YEAR}年年度评价"))).to_be_visible()
    images = page.locator("img.chart")
    expect(images.first).to_be_visible()
    assert images.count() >= 2
    page.wait_for_function("() => [...document.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0)")
    shot("leader-dashboard")
