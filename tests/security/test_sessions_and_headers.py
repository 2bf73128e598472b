"""Brute force, sessions, response headers on every route, and error pages that tell nothing away.

Login throttling lives in the database: five failures lock an account whatever address the next try comes from,
and twenty failures from one address lock that address for every account. The session cookie is replaced at login
(a cookie planted before cannot be logged in), is HttpOnly and SameSite=Lax, and stops working at logout. Every
response carries the CSP, nosniff, a Referrer-Policy and X-Frame-Options DENY, except the two pages meant to be
framed by the app itself (the briefing preview and an email's HTML part: SAMEORIGIN, frame-ancestors 'self'); no
header names the server's software. 400, 403, 404, 405, 413 and 500 answer in Chinese without a stack trace, in
HTML for pages and in JSON for the API.
"""
from __future__ import annotations

import io
import re

import pytest

from config import ProductionConfig
from tracker.accounts.services import MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_IP
from tests.factories import TEST_PASSWORD
from tests.security.access_matrix import MATRIX
from tests.security.conftest import client_for, configured, send, undone

THROTTLED = "登录失败次数过多"
#: pages the app itself shows in a frame
FRAMED = {"briefings.briefing_document", "reminders.mail_html"}


def _login(client, username, password, ip):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_five_failures_lock_the_account_even_for_the_right_password_from_another_address(world):
    client = world.app.test_client()
    with undone(world.session, world.storage):
        for attempt in range(MAX_FAILURES_PER_ACCOUNT):
            assert _login(client, "sec-own", "wrong password", f"10.0.0.{attempt + 1}").status_code == 401
        refused = _login(client, "sec-own", TEST_PASSWORD, "192.168.7.7")
        still_out = client.get("/todo").status_code
        other_account = _login(world.app.test_client(), "sec-lead", TEST_PASSWORD, "192.168.7.7").status_code
    assert refused.status_code == 401 and THROTTLED in refused.get_data(as_text=True)
    assert still_out == 302
    assert other_account == 302, "the lock is per account: another account on that address still logs in"


def test_twenty_failures_from_one_address_lock_that_address_for_every_account(world):
    client = world.app.test_client()
    with undone(world.session, world.storage):
        for attempt in range(MAX_FAILURES_PER_IP):
            _login(client, f"nobody-{attempt % 4}", "wrong password", "10.9.9.9")
        refused = _login(client, "sec-leader", TEST_PASSWORD, "10.9.9.9")
        elsewhere = _login(world.app.test_client(), "sec-leader", TEST_PASSWORD, "10.1.1.1")
    assert refused.status_code == 401 and THROTTLED in refused.get_data(as_text=True)
    assert elsewhere.status_code == 302


def test_unknown_and_known_accounts_fail_alike_and_every_failure_is_counted(world):
    client = world.app.test_client()
    with undone(world.session, world.storage):
        unknown = _login(client, "no-such-user", "wrong password", "10.2.2.2")
        known = _login(client, "sec-own", "wrong password", "10.2.2.3")
        disabled = _login(client, "sec-disabled", TEST_PASSWORD, "10.2.2.4")
        counted = world.session.execute(__import__("sqlalchemy").text(
            "SELECT count(*) FROM login_attempts WHERE succeeded = false")).scalar_one()
    texts = {re.sub(r'value="[^"]*"', "", r.get_data(as_text=True)) for r in (unknown, known, disabled)}
    assert {unknown.status_code, known.status_code, disabled.status_code} == {401} and len(texts) == 1
    assert counted == 3


def _session_cookie(client):
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def _csrf_token(response) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_logging_in_replaces_the_cookie_which_is_httponly_and_lax_and_logging_out_ends_it(world):
    client, planted_client, copy = (world.app.test_client() for _ in range(3))
    # with CSRF on, the login page keeps its token in a session cookie: the cookie a fixation attack would plant
    with configured(world, WTF_CSRF_ENABLED=True):
        with undone(world.session, world.storage):
            token = _csrf_token(client.get("/login"))
            planted = _session_cookie(client)
            response = client.post("/login", data={"username": "sec-lead", "password": TEST_PASSWORD,
                                                   "csrf_token": token}, environ_base={"REMOTE_ADDR": "10.3.3.3"})
            header = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))
            logged_in = _session_cookie(client)
            planted_client.set_cookie("session", planted)
            fixated = planted_client.get("/todo").status_code
            copy.set_cookie("session", logged_in)
            copy_before = copy.get("/todo").status_code
            logout = client.post("/logout", data={"csrf_token": _csrf_token(client.get("/todo"))}).status_code
            copy_after = copy.get("/todo").status_code
    assert response.status_code == 302 and planted and logged_in and planted != logged_in
    assert fixated == 302, "a cookie from before the login is logged in"
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert (copy_before, logout, copy_after) == (200, 302, 302), "a copy of the cookie outlives the logout"


def test_production_cookies_are_secure_and_hsts_is_on():
    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.HSTS
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY and ProductionConfig.SESSION_COOKIE_SAMESITE == "Lax"


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(world):
    this, other = client_for(world, "own"), client_for(world, "own")
    with undone(world.session, world.storage):
        changed = this.post("/account/password", data={"current_password": TEST_PASSWORD,
                                                       "new_password": "a new passphrase 2025",
                                                       "confirm": "a new passphrase 2025"})
        answers = this.get("/todo").status_code, other.get("/todo").status_code
    assert changed.status_code == 302 and answers == (200, 302)


def test_disabling_a_user_ends_the_session_at_the_next_request(world):
    client = client_for(world, "own")
    with undone(world.session, world.storage):
        assert client.get("/todo").status_code == 200
        send(world, "office", "POST", f"/admin/users/{world.users['own']}/active", data={"is_active": "0"}, keep=True)
        answer = client.get("/todo")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


# --- headers -----------------------------------------------------------------------------------------------

def assert_headers(response, endpoint: str, *, framed: bool | None = None) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    assert policy, f"{endpoint}: no CSP"
    assert "default-src 'self'" in policy or "default-src 'none'" in policy, f"{endpoint}: {policy}"
    assert "object-src 'none'" in policy or "default-src 'none'" in policy, f"{endpoint}: {policy}"
    assert "unsafe-eval" not in policy and not re.search(r"script-src[^;]*unsafe-inline", policy), endpoint
    assert headers.get("X-Content-Type-Options") == "nosniff", endpoint
    assert headers.get("Referrer-Policy"), endpoint
    if endpoint in FRAMED if framed is None else framed:
        assert headers.get("X-Frame-Options") == "SAMEORIGIN" and "frame-ancestors 'self'" in policy, endpoint
    else:
        assert headers.get("X-Frame-Options") == "DENY", endpoint
        assert "frame-ancestors 'none'" in policy or "sandbox" in policy or "default-src 'none'" in policy, endpoint
    for name in ("Server", "X-Powered-By", "X-AspNet-Version"):
        assert name not in headers, f"{endpoint}: the {name} header names the software"
    if response.mimetype == "text/html":
        assert "no-store" in headers.get("Cache-Control", ""), endpoint


GET_ROWS = [row for row in MATRIX if row.get]


@pytest.mark.parametrize("endpoint", [row.endpoint for row in GET_ROWS])
def test_every_page_carries_the_security_headers(world, endpoint):
    row = next(r for r in GET_ROWS if r.endpoint == endpoint)
    expected = row.expected("get")
    role = next((r for r in ("office", "coordinator", "leader", "own") if expected[r] == "ok"), "anonymous")
    response = send(world, role, "GET", row.path(world), api=endpoint.startswith("api."))
    assert_headers(response, endpoint)
    anonymous = send(world, "anonymous", "GET", row.path(world), api=endpoint.startswith("api."))
    assert_headers(anonymous, endpoint, framed=anonymous.status_code == 200 and endpoint in FRAMED)


def test_downloads_are_attachments_that_are_never_sniffed_or_rendered(world):
    for role, path in (("own", f"/attachments/{world.attachment_id}"),
                       ("office", f"/rounds/{world.round_id}/ledger.xlsx"),
                       ("own", f"/briefings/{world.briefing_published}/pdf"),
                       ("office", f"/evaluations/{world.evaluation_computed}/results.xlsx"),
                       ("office", f"/evaluations/{world.evaluation_computed}/results.json")):
        response = send(world, role, "GET", path)
        assert response.status_code == 200, path
        assert response.headers["Content-Disposition"].startswith("attachment;"), path
        assert "sandbox" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- error pages -------------------------------------------------------------------------------------------

SECRET = "secret internals: postgres://admin:hunter2@db.internal/tracker"


def assert_plain_error(response, status: int, title: str, where: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == status, f"{where}: {response.status_code}"
    for leak in ("Traceback", 'File "', "hunter2", "RuntimeError", "werkzeug", "sqlalchemy", "/work/", ".py"):
        assert leak not in body, f"{where}: the error page shows {leak!r}"
    if response.is_json:
        assert re.search(r"[\u4e00-\u9fff]", response.get_json()["error"]["message"]), where
    else:
        assert title in body, f"{where}: no Chinese title {title!r}"
    assert_headers(response, where)


@pytest.mark.parametrize("case", ["404", "405", "400 csrf", "400 nul", "413", "403", "500"])
def test_error_pages_are_in_chinese_and_show_no_stack_trace(world, monkeypatch, case):
    if case == "404":
        response = send(world, "own", "GET", "/no-such-page")
        assert_plain_error(response, 404, "页面不存在", case)
    elif case == "405":
        assert_plain_error(send(world, "own", "GET", "/logout"), 405, "请求方式不允许", case)
    elif case == "400 csrf":
        with configured(world, WTF_CSRF_ENABLED=True):
            response = send(world, "own", "POST", "/account/tokens", data={"name": "x"})
        assert_plain_error(response, 400, "请求无效", case)
    elif case == "400 nul":
        assert_plain_error(send(world, "own", "GET", "/units?q=%00"), 400, "请求无效", case)
    elif case == "413":
        with configured(world, MAX_CONTENT_LENGTH=1024):
            response = send(world, "office", "POST", "/units/contacts/import", content_type="multipart/form-data",
                            data={"document": (io.BytesIO(b"x" * 4096), "a.csv")})
        assert_plain_error(response, 413, "文件过大", case)
    elif case == "403":
        assert_plain_error(send(world, "own", "GET", "/admin/users"), 403, "无权操作", case)
    else:
        def explode(*args, **kwargs):
            raise RuntimeError(SECRET)

        monkeypatch.setattr("tracker.agencies.services.list_units", explode)
        world.app.logger.disabled = True
        try:
            response = send(world, "own", "GET", "/units")
        finally:
            world.app.logger.disabled = False
        assert_plain_error(response, 500, "系统内部错误", case)


@pytest.mark.parametrize("case", ["401", "404 route", "404 object", "405", "400", "500"])
def test_api_errors_are_chinese_json_without_a_stack_trace(world, monkeypatch, case):
    if case == "401":
        response = send(world, "anonymous", "GET", "/api/v1/plans", api=True)
        status = 401
    elif case == "404 route":
        response, status = send(world, "own", "GET", "/api/v1/no-such-thing", api=True), 404
    elif case == "404 object":
        response, status = send(world, "own", "GET", "/api/v1/tasks/999999", api=True), 404
    elif case == "405":
        response, status = send(world, "own", "DELETE", "/api/v1/plans", api=True), 405
    elif case == "400":
        response, status = send(world, "own", "GET", "/api/v1/rounds?page=0", api=True), 400
    else:
        def explode(*args, **kwargs):
            raise RuntimeError(SECRET)

        monkeypatch.setattr("tracker.tasks.services.list_plans", explode)
        world.app.logger.disabled = True
        try:
            response, status = send(world, "own", "GET", "/api/v1/plans", api=True), 500
        finally:
            world.app.logger.disabled = False
    assert response.is_json, case
    assert_plain_error(response, status, "", f"API {case}")
