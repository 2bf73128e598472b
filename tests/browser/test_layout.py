"""Layout at 1280 px.

- The top bar: one line of navigation for every role, the rest in drop-down menus that the mouse and the keyboard
  both reach, and the current page highlighted in its menu.
- The briefing form: a round with a long label does not push its <select> out of the form's card.
- The dashboard's (and the briefing's) chart of the areas' reduction: with many areas no two labels overlap.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from tests.browser.conftest import nav_link
from tracker import time
from tracker.accounts.services import COMMAND_LINE
from tracker.briefings import charts
from tracker.reporting.services import rounds
from tracker.tasks.models import Plan

pytestmark = pytest.mark.browser

#: (menu, link, endpoint) of every link the office finds in a drop-down menu
OFFICE_MENU_LINKS = [
    ("计划与单位", "计划概览", "tasks.plan_overview_default"),
    ("计划与单位", "附件指标", "tasks.annexes_default"),
    ("计划与单位", "单位目录", "agencies.unit_list"),
    ("系统管理", "导入计划", "tasks.import_upload"),
    ("系统管理", "调度设置", "reporting.settings"),
    ("系统管理", "提醒邮件", "reminders.mail_list"),
    ("系统管理", "提醒规则", "reminders.policy"),
    ("系统管理", "工作日日历", "reminders.calendar"),
    ("系统管理", "用户管理", "admin.user_list"),
    ("系统管理", "审计日志", "audit.event_list"),
]
TOP_LEVEL = ["我的待办", "定期调度", "任务清单", "能耗评价", "督查通报", "领导看板"]


def assert_one_line(page) -> None:
    """The navigation is one row of links, and the brand, the navigation and the user menu share that row."""
    bar = page.get_by_role("navigation", name="主导航")
    nav_box = bar.bounding_box()
    link_box = bar.get_by_role("link", name="我的待办", exact=True).bounding_box()
    assert nav_box["height"] < 2 * link_box["height"], (nav_box, link_box)
    row = [page.locator(selector).bounding_box() for selector in (".brand", ".mainnav", ".user-menu > summary")]
    middles = [box["y"] + box["height"] / 2 for box in row]
    assert max(middles) - min(middles) < link_box["height"] / 2, row
    header = page.locator(".topbar").bounding_box()
    assert header["height"] < 2.5 * link_box["height"], header


def menu(page, name: str):
    return page.locator("details.nav-menu", has=page.locator("summary", has_text=name))


def test_the_office_has_one_line_of_navigation_and_reaches_every_admin_page_through_its_menu(
        browser_page, live_server, login_as, shot):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    login_as("office")
    bar = page.get_by_role("navigation", name="主导航")
    for name in TOP_LEVEL:
        expect(bar.get_by_role("link", name=name, exact=True)).to_be_visible()
    assert_one_line(page)
    shot("office-1280")

    for menu_name, name, endpoint in OFFICE_MENU_LINKS:
        link = nav_link(page, name)
        expect(menu(page, menu_name)).to_have_attribute("open", "")
        expect(link).to_be_visible()
        expect(link).to_have_attribute("href", live_server.url_for(endpoint).removeprefix(live_server.url))
        if name == "审计日志":
            shot("admin-menu-open")
        link.click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        # the page is the menu's current one: its link is marked and the closed menu's summary is highlighted
        expect(bar.get_by_role("link", name=name, exact=True, include_hidden=True)).to_have_attribute(
            "aria-current", "page")
        expect(menu(page, menu_name).locator("summary")).to_have_class(re.compile(r"\bactive\b"))
        expect(menu(page, menu_name)).not_to_have_attribute("open", "")
        assert_one_line(page)

    user = page.locator("details.user-menu")
    user.locator("summary").click()
    expect(user.get_by_role("link", name="修改密码")).to_be_visible()
    expect(user.get_by_role("link", name="接口令牌")).to_be_visible()
    expect(user.get_by_role("button", name="退出登录")).to_be_visible()
    shot("user-menu-open")
    user.get_by_role("link", name="接口令牌").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("接口令牌")
    expect(page.locator(".user-menu > summary")).to_have_class(re.compile(r"\bactive\b"))


@pytest.mark.parametrize("username", ["coord-fgw", "leader", "xcq"])
def test_every_other_role_has_one_line_of_navigation_without_the_admin_menu(browser_page, login_as, username):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    login_as(username)
    assert_one_line(page)
    expect(menu(page, "系统管理")).to_have_count(0)
    expect(nav_link(page, "单位目录")).to_be_visible()


def test_the_menus_work_from_the_keyboard_and_close_on_escape_or_a_click_outside(browser_page, login_as, shot):
    page = browser_page
    login_as("office")
    admin = menu(page, "系统管理")
    summary = admin.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(admin).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    expect(admin.get_by_role("link", name="导入计划")).to_be_focused()
    shot("keyboard-focus-in-menu")
    page.keyboard.press("Escape")
    expect(admin).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()

    page.keyboard.press("Space")
    expect(admin).to_have_attribute("open", "")
    menu(page, "计划与单位").locator("summary").click()  # one menu open at a time
    expect(menu(page, "计划与单位")).to_have_attribute("open", "")
    expect(admin).not_to_have_attribute("open", "")
    page.get_by_role("heading", level=1).click()
    expect(page.locator("details.nav-menu[open]")).to_have_count(0)


LONG_ROUND_LABEL = "2025年第三季度重点任务推进情况暨节能降碳专项督查调度（旗县区、开发区及市直各部门）"


@pytest.fixture(scope="module")
def long_round(live_server):
    with live_server.session() as session:
        plan = session.exec(select(Plan).where(Plan.slug == live_server.plan_slug)).one()
        opened = rounds.open_round(session, plan, label=LONG_ROUND_LABEL, period_start=date(2025, 7, 1),
                                   period_end=date(2025, 9, 30), due_date=date(2025, 10, 10), actor=COMMAND_LINE,
                                   now=time.now())
        return opened.id


def test_a_long_round_label_keeps_the_briefing_forms_select_inside_its_card(browser_page, login_as, shot, long_round):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    login_as("office")
    page.goto("/briefings/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("起草督查通报")
    round_select = page.get_by_label("通报的调度")
    expect(round_select).to_contain_text(LONG_ROUND_LABEL)
    expect(page.frame_locator("iframe[name=briefing-preview]").get_by_text("二、重点任务进展")).to_be_visible()
    shot("briefing-form-long-round")

    form = page.locator("form.briefing-form")
    form_box, preview_box = form.bounding_box(), page.locator("section.briefing-preview").bounding_box()
    assert form_box["x"] + form_box["width"] <= preview_box["x"], (form_box, preview_box)
    for field in (round_select, page.get_by_label("能耗强度评价（可选）")):
        box = field.bounding_box()
        assert form_box["x"] <= box["x"] and box["x"] + box["width"] <= form_box["x"] + form_box["width"], box
    assert form.evaluate("form => form.scrollWidth <= form.clientWidth")
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


AREAS = ["新城区", "回民区", "玉泉区", "赛罕区", "土默特左旗", "托克托县", "和林格尔县", "清水河县", "武川县",
         "呼和浩特经济技术开发区", "和林格尔新区", "呼和浩特金山高新技术产业开发区", "沙尔沁工业园区", "金桥开发区",
         "如意开发区", "鸿盛高科技园区"]


def overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def test_the_area_chart_keeps_every_label_apart_for_sixteen_areas(browser_page, shot):
    """The chart as the dashboard and the briefing show it, 640 px wide, with the plan's sixteen areas and zones."""
    page = browser_page
    areas = [{"unit": name, "cumulative_pct": f"{(index * 7.3) % 13 - 1.5:.2f}", "required_pct": f"{6 + index % 4:.2f}"}
             for index, name in enumerate(AREAS)]
    svg = charts.reduction_chart(areas).decode("utf-8")
    page.set_content(f'<!doctype html><body style="margin:0;background:#fff"><div style="width:640px">{svg}</div>')
    shot("area-chart-16")
    boxes = page.evaluate("""() => Array.from(document.querySelectorAll("svg .axis text, svg text.value"))
        .filter(t => t.textContent.trim())
        .map(t => { const r = t.getBoundingClientRect();
                    return {text: t.textContent.trim(), left: r.left, top: r.top, right: r.right, bottom: r.bottom}; })
    """)
    names = [box["text"] for box in boxes]
    assert all(name in names for name in AREAS), names
    overlapping = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if overlaps(a, b)]
    assert not overlapping, overlapping
