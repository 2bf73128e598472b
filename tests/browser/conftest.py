"""Browser tests: the real app on a real port, driven by Debian's chromium through Playwright.

Writing a scenario (see test_login.py)::

    pytestmark = pytest.mark.browser

    def test_a_unit_submits_its_report(browser_page, live_server, login_as, shot):
        login_as("xcq")                        # a demo account; the password comes from the seed
        shot("todo")                           # test-artifacts/screenshots/<test>-01-todo.png
        browser_page.get_by_role("link", name="任务清单").click()
        ...

Fixtures, from the outside in:

- `live_server` (one per test module): the app served by werkzeug on 127.0.0.1 and a free port, on a
  database of its own — a temporary SQLite file, or `<dbname>_browser` next to a PostgreSQL
  TRACKER_TEST_DATABASE_URL (created at start, dropped at the end) — migrated, with the Hohhot plan
  imported and the demo accounts seeded. CSRF is on, as in production. A module's tests share its
  data, so a scenario that changes things lives in a module of its own (or uses other accounts).
- `browser` (one per run): headless chromium; every test using it is skipped, not failed, only when
  /usr/bin/chromium is absent.
- `browser_page` (one per test): a fresh context and page whose relative URLs go to the live server.
  The test FAILS on any console error, any uncaught page error, and any request to another host
  (such requests are aborted). `page_watch.allow_console(regex)` tolerates an expected console
  error — chromium logs "Failed to load resource: … status of 422" when a form is re-rendered with
  its errors (401 for a refused login), so a step that expects that calls
  `page_watch.allow_console(r"status of 422")` first. confirm() dialogs (data-confirm) are
  accepted and kept in `page_watch.dialogs`. On failure a screenshot `<test>-failure.png` is saved
  beside the others.
- `login_as(username, password=None, expect_success=True)`: logs in through the real login form;
  without a password it uses the demo password of that account.
- `shot(name)`: a full-page screenshot, numbered in the order taken.

Demo usernames: office, coord-fgw, coord-sthjj, leader, and one per unit of the plan named by the
unit's code (fgw, sthjj, gxj, xcq …; see seed/hohhot-units.json). `live_server.accounts` has them all.
"""
from __future__ import annotations

import itertools
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session
from werkzeug.serving import make_server

from config import TestConfig
from tracker import create_app, migrate, time
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies.services import read_directory
from tracker.db import make_engine, session_scope
from tracker.demo import DemoAccount, seed_demo
from tracker.tasks import importer
from tests.conftest import HOHHOT, ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
#: one folder per database: CI runs the suite on SQLite and PostgreSQL at the same time
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots" / (
    "postgresql" if os.environ.get("TRACKER_TEST_DATABASE_URL", "").startswith("postgresql") else "sqlite")
UNITS_DIRECTORY = ROOT / "seed" / "hohhot-units.json"
#: a failing step waits this long, not Playwright's 30 s
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(items):
    """Every test in this folder is a browser test, marked or not."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After the test body: fail it for what the page showed (console errors, page errors, other hosts)."""
    watch: PageWatch | None = getattr(item, "page_watch", None)
    try:
        result = yield
    except BaseException:
        if watch is not None:
            watch.failure_shot()
        raise
    if watch is not None and watch.problems:
        watch.failure_shot()
        pytest.fail("浏览器中出现问题：\n" + "\n".join(f"  - {p}" for p in watch.problems), pytrace=False)
    return result


# --- the server ------------------------------------------------------------------------------------

@dataclass
class LiveServer:
    """The app on a real port, with its own database and the demo accounts."""

    url: str
    app: object
    database_url: str
    plan_slug: str
    #: every demo account by username (role, unit_name, username, password)
    accounts: dict[str, DemoAccount]

    def password(self, username: str) -> str:
        """The demo password of `username` (what `tracker demo seed` prints for it)."""
        return self.accounts[username].password

    def url_for(self, endpoint: str, **values) -> str:
        """An absolute URL on the live server, built like the app builds its links."""
        from flask import url_for
        with self.app.test_request_context(base_url=self.url):
            return url_for(endpoint, _external=True, **values)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A database session on the server's database, to arrange or inspect data (commit yourself)."""
        with session_scope(self.app.extensions["tracker_db"].engine) as session:
            yield session

    def printed_logins(self) -> dict[str, list[str]]:
        """Run `tracker demo seed` against this server's database; its lines by username."""
        result = self.app.test_cli_runner().invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()[1:]
        return {fields[2]: fields for fields in (line.split("  ") for line in lines)}


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} 不存在：浏览器测试跳过（CI 中有 chromium）")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser_database_url(tmp_path_factory) -> Iterator[str]:
    """A database only the browser tests use: a SQLite file, or `<dbname>_browser` on PostgreSQL."""
    configured = os.environ.get("TRACKER_TEST_DATABASE_URL", "")
    if not configured.startswith("postgresql"):
        yield f"sqlite:///{tmp_path_factory.mktemp('browser') / 'browser.sqlite3'}"
        return
    import psycopg
    from psycopg import sql

    base = make_url(configured)
    name = f"{base.database}_browser"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)

    def run(statement):
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(statement)

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    run(drop)
    run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        run(drop)


@pytest.fixture(scope="module")
def live_server(chromium_executable, browser_database_url, tmp_path_factory) -> Iterator[LiveServer]:
    instance = tmp_path_factory.mktemp("browser-instance")

    class BrowserConfig(TestConfig):
        TESTING = False
        DATABASE_URL = browser_database_url
        SECRET_KEY = "browser-test-secret-key-not-for-production"
        INSTANCE_DIR = instance
        STORAGE_DIR = instance / "storage"
        MAILBOX_DIR = instance / "mailbox"
        UNITS_DIRECTORY = UNITS_DIRECTORY
        WTF_CSRF_ENABLED = True

    migrate.upgrade(browser_database_url)
    engine = make_engine(browser_database_url)
    directory = read_directory(UNITS_DIRECTORY)
    slug = importer.slug_from_filename(HOHHOT.name)
    try:
        with session_scope(engine) as session:
            importer.import_plan(session, HOHHOT.read_bytes(), filename=HOHHOT.name, slug=slug, directory=directory,
                                 actor=COMMAND_LINE, now=time.now())
            seeded = seed_demo(session, secret_key=BrowserConfig.SECRET_KEY, directory=directory,
                               actor=COMMAND_LINE, now=time.now())
    finally:
        engine.dispose()

    app = create_app(BrowserConfig)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, database_url=browser_database_url,
                         plan_slug=slug, accounts={a.username: a for a in seeded.accounts})
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["tracker_db"].engine.dispose()


# --- the browser -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser(chromium_executable):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_executable), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageWatch:
    """What a page did that a test must not ignore, and the screenshots it took."""

    origin: str
    shot_prefix: str
    page: object = None
    problems: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    _allowed: list[re.Pattern] = field(default_factory=list)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def allow_console(self, pattern: str) -> None:
        """Tolerate console errors matching `pattern` (a regex) from now on."""
        self._allowed.append(re.compile(pattern))

    def on_console(self, message) -> None:
        if message.type != "error" or any(p.search(message.text) for p in self._allowed):
            return
        where = message.location.get("url", "") if isinstance(message.location, dict) else ""
        self.problems.append(f"控制台错误：{message.text} （{where or self.page.url}）")

    def on_page_error(self, error) -> None:
        self.problems.append(f"页面脚本错误：{error}")

    def on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.accept()

    def route(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == self.origin:
            route.continue_()
            return
        self.foreign_requests.append(url)
        self.problems.append(f"请求了其他主机（已拦截）：{url}")
        route.abort()

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.shot_prefix}-{next(self._numbers):02d}-{_file_part(name)}.png"
        self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    def failure_shot(self) -> None:
        try:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / f"{self.shot_prefix}-failure.png"), full_page=True,
                                 timeout=5_000)
        except Exception:  # the page may be gone; the test's own failure matters more
            pass


def _file_part(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_") or "page"


@pytest.fixture
def page_watch(request, live_server) -> PageWatch:
    watch = PageWatch(origin=live_server.url, shot_prefix=_file_part(request.node.name))
    request.node.page_watch = watch
    return watch


@pytest.fixture
def browser_page(browser, live_server, page_watch):
    """A fresh page on the live server; relative URLs (`page.goto("/tasks")`) go to it."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", page_watch.route)
    page = context.new_page()
    page_watch.page = page
    page.on("console", page_watch.on_console)
    page.on("pageerror", page_watch.on_page_error)
    page.on("dialog", page_watch.on_dialog)
    yield page
    context.close()


@pytest.fixture
def shot(page_watch, browser_page):
    """`shot("todo")` saves test-artifacts/screenshots/<test>-<NN>-todo.png (full page)."""
    return page_watch.shot


@pytest.fixture
def login_as(browser_page, live_server):
    """Log in through the login form; returns the page, now on the page the login leads to."""
    from playwright.sync_api import expect

    def login(username: str, password: str | None = None, *, expect_success: bool = True):
        page = browser_page
        page.goto("/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(live_server.password(username) if password is None else password)
        page.get_by_role("button", name="登录", exact=True).click()
        page.wait_for_load_state()
        if expect_success:
            expect(page).not_to_have_url(re.compile(r"/login"))
            expect(page.locator("details.user-menu > summary")).to_be_visible()
            expect(page.get_by_role("button", name="退出登录", include_hidden=True)).to_have_count(1)
        return page

    return login


# --- the top bar: links and buttons inside its drop-down menus (<details class="nav-menu">) ----------------------

def nav_link(page, name: str):
    """The main navigation's link named exactly `name`; when it sits in a drop-down menu (计划与单位, 系统管理) the
    menu is opened first, as a user would, so the returned link is visible and can be clicked."""
    bar = page.get_by_role("navigation", name="主导航")
    link = bar.get_by_role("link", name=name, exact=True, include_hidden=True)
    # (a role locator for a hidden element does not work inside `has=`: match the link's text instead)
    menu = bar.locator("details.nav-menu", has=page.locator("a", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")))
    if menu.count() and menu.get_attribute("open") is None:
        menu.locator("summary").click()
    return link


def log_out(page) -> None:
    """Open the user menu (the user's name in the top bar) and press 退出登录 (a POST form with its CSRF token)."""
    menu = page.locator("details.user-menu")
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()
    menu.get_by_role("button", name="退出登录").click()


# --- appended for the end-to-end scenarios (test_report_review_cycle.py, test_whole_cycle.py) ---------------

def minimal_pdf(text: str = "Inspection report") -> bytes:
    """A small but valid one-page PDF (header, objects, cross-reference table, trailer) to upload as evidence."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@dataclass
class PlanlessLiveServer(LiveServer):
    """A live server whose database has the unit directory and the staff accounts but no plan yet."""

    def seed_demo_accounts(self) -> dict[str, DemoAccount]:
        """Run `tracker demo seed` (what an administrator does after importing a plan): every unit of the plan
        gets its demo account; `accounts` (and so `login_as`) then knows them all."""
        from tracker.accounts.models import UserRole

        for role, unit_name, username, password in self.printed_logins().values():
            self.accounts[username] = DemoAccount(UserRole(role), unit_name, username, password)
        return self.accounts


@pytest.fixture(scope="module")
def live_server_without_plan(chromium_executable, browser_database_url, tmp_path_factory) -> Iterator[PlanlessLiveServer]:
    """Like `live_server`, on a database of its own, but WITHOUT the Hohhot plan: for a scenario in which the office
    uploads the plan document in the browser. The unit directory (seed/hohhot-units.json) is loaded and `tracker demo
    seed` has run, so the office, the coordinators, the leader and the areas can log in; the departments' accounts
    exist once the plan is imported and `seed_demo_accounts()` is called. `plan_slug` is the slug the import page
    gives the plan document when its 计划标识 is left blank. It takes the module's `browser_database_url`, so a
    module uses it INSTEAD of `live_server` (never both), by overriding `live_server`::

        @pytest.fixture(scope="module")
        def live_server(live_server_without_plan):
            return live_server_without_plan
    """
    instance = tmp_path_factory.mktemp("browser-instance-planless")

    class BrowserConfig(TestConfig):
        TESTING = False
        DATABASE_URL = browser_database_url
        SECRET_KEY = "browser-test-secret-key-not-for-production"
        INSTANCE_DIR = instance
        STORAGE_DIR = instance / "storage"
        MAILBOX_DIR = instance / "mailbox"
        UNITS_DIRECTORY = UNITS_DIRECTORY
        WTF_CSRF_ENABLED = True

    migrate.upgrade(browser_database_url)
    engine = make_engine(browser_database_url)
    try:
        with session_scope(engine) as session:
            seeded = seed_demo(session, secret_key=BrowserConfig.SECRET_KEY, directory=read_directory(UNITS_DIRECTORY),
                               actor=COMMAND_LINE, now=time.now())
    finally:
        engine.dispose()

    app = create_app(BrowserConfig)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server-planless", daemon=True)
    thread.start()
    try:
        yield PlanlessLiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app,
                                 database_url=browser_database_url, plan_slug=importer.slug_from_filename(HOHHOT.name),
                                 accounts={a.username: a for a in seeded.accounts})
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["tracker_db"].engine.dispose()
