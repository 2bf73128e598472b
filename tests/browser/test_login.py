"""Logging in and out in a real browser, with the logins `tracker demo seed` prints."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_out

pytestmark = pytest.mark.browser


def test_the_office_logs_in_with_its_demo_password_browses_a_task_and_logs_out(browser_page, live_server,
                                                                                login_as, shot):
    page = browser_page
    role, unit, username, password = live_server.printed_logins()["office"]
    assert (role, unit) == ("office", "市政府办公室")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    shot("login-page")

    login_as(username, password)
    expect(page.get_by_role("heading", level=1)).to_have_text("我的待办")
    expect(page.get_by_text("市政府办公室督查科").first).to_be_visible()
    shot("todo")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="任务清单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("任务清单")
    expect(page.get_by_text("共 21 项任务")).to_be_visible()
    shot("task-list")

    first_task = page.locator("table.table tbody tr").first.get_by_role("link").first
    title = first_task.inner_text()
    first_task.click()
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.get_by_role("heading", name="牵头单位")).to_be_visible()
    shot("task")

    log_out(page)
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_text("已退出登录。")).to_be_visible()
    expect(page.get_by_role("button", name="退出登录", include_hidden=True)).to_have_count(0)
    shot("logged-out")

    page.goto("/tasks")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_a_wrong_password_is_refused_with_one_message(browser_page, live_server, login_as, page_watch, shot):
    page = browser_page
    page_watch.allow_console(r"status of 401")  # the login page answers a failed login with 401
    login_as("office", "not-the-demo-password", expect_success=False)
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    expect(page.get_by_label("用户名")).to_have_value("office")
    shot("wrong-password")
