"""Headers on every response, error pages that tell nothing away, and CSRF on every form."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from tracker.accounts.models import LoginAttempt, User, UserRole
from tests.accounts.conftest import csrf_token_of, text_of
from tests.factories import TEST_PASSWORD

NEW_PASSWORD = "a long and unusual passphrase"


def assert_security_headers(response):
    policy = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
                      "form-action 'self'"):
        assert directive in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_every_kind_of_response_carries_csp_nosniff_and_referrer_policy(client, auth, make_user):
    responses = [client.get("/login"), client.get("/units"), client.post("/login", data={}),
                 client.get("/static/css/app.css")]
    auth.login(make_user(UserRole.unit))
    responses += [client.get("/units"), client.get("/no-such-page"), client.get("/admin/users"),
                  client.post("/units/new", data={})]
    assert [r.status_code for r in responses] == [200, 302, 422, 200, 200, 404, 403, 403]
    for response in responses:
        assert_security_headers(response)


@pytest.fixture
def app_with_a_failing_route(app):
    """Register, in this test's app only, a page that fails the way a bug would."""
    def explode():
        raise RuntimeError("secret internals: connection string postgres://admin:hunter2@db")

    app.add_url_rule("/test-only/explode", "test_only_explode", explode)
    return app


def test_error_pages_are_in_chinese_and_show_no_stack_trace(app_with_a_failing_route, client, auth, make_user):
    auth.login(make_user(UserRole.unit))
    expected = {"/no-such-page": (404, "页面不存在", "不在您的查看范围内"),
                "/admin/users": (403, "无权操作", "没有进行此项操作的权限"),
                "/test-only/explode": (500, "系统内部错误", "请稍后重试")}
    for path, (status, title, hint) in expected.items():
        response = client.get(path)
        assert response.status_code == status, path
        page = response.get_data(as_text=True)
        assert title in page and hint in page
        assert "Traceback" not in page and "RuntimeError" not in page and "hunter2" not in page
        assert "werkzeug" not in page.lower() and 'File "' not in page
        assert_security_headers(response)


# --- CSRF -----------------------------------------------------------------------------------------

@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_login_without_a_valid_csrf_token_is_refused_and_not_even_counted(csrf_on, client, session, make_user,
                                                                           token):
    make_user(username="csrf-login")
    data = {"username": "csrf-login", "password": TEST_PASSWORD}
    if token:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 400 and "请求无效" in response.get_data(as_text=True)
    assert session.exec(select(func.count()).select_from(LoginAttempt)).one() == 0
    assert client.get("/units").status_code == 302


def test_a_login_with_the_pages_csrf_token_goes_through(csrf_on, client, make_user):
    make_user(username="csrf-ok")
    token = csrf_token_of(client.get("/login"))
    response = client.post("/login", data={"username": "csrf-ok", "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_an_admin_form_without_a_valid_csrf_token_changes_nothing(csrf_on, client, session, auth, make_user,
                                                                 token):
    auth.login_as(UserRole.office)
    target = make_user(username="csrf-target")
    forms = {"/admin/users/new": {"username": "csrf-new", "display_name": "新用户", "unit_id": str(target.unit_id),
                                  "role": "office", "email": "new@example.gov.cn", "password": NEW_PASSWORD,
                                  "confirm": NEW_PASSWORD},
             f"/admin/users/{target.id}/active": {"is_active": "0"},
             f"/admin/users/{target.id}/password": {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
             f"/admin/users/{target.id}": {"display_name": "改了", "unit_id": str(target.unit_id), "role": "office",
                                           "email": target.email}}
    for path, data in forms.items():
        if token:
            data["csrf_token"] = token
        assert client.post(path, data=data).status_code == 400, path
    session.refresh(target)
    assert target.is_active and target.role is UserRole.unit and target.display_name != "改了"
    assert target.session_epoch == 0
    assert session.exec(select(User).where(User.username == "csrf-new")).first() is None


def test_an_admin_form_with_the_pages_csrf_token_goes_through(csrf_on, client, session, auth, make_user):
    auth.login_as(UserRole.office)
    target = make_user(username="csrf-target")
    token = csrf_token_of(client.get(f"/admin/users/{target.id}"))
    assert client.post(f"/admin/users/{target.id}/active", data={"is_active": "0", "csrf_token": token}
                       ).status_code == 302
    session.refresh(target)
    assert not target.is_active


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_logout_without_a_valid_csrf_token_is_refused_and_the_session_lives_on(csrf_on, client, session, auth,
                                                                              make_user, token):
    user = auth.login(make_user())
    response = client.post("/logout", data={"csrf_token": token} if token else {})
    assert response.status_code == 400
    session.refresh(user)
    assert user.session_epoch == 0
    assert client.get("/units").status_code == 200


def test_logout_with_the_pages_csrf_token_ends_the_session(csrf_on, client, auth, make_user):
    auth.login(make_user())
    token = csrf_token_of(client.get("/units"))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/units").status_code == 302


def test_a_get_request_changes_nothing(client, session, auth, make_user):
    auth.login_as(UserRole.office)
    target = make_user()
    for path in (f"/admin/users/{target.id}/active?is_active=0", f"/admin/users/{target.id}/password"):
        assert client.get(path).status_code == 405
    session.refresh(target)
    assert target.is_active
    assert "页面" in text_of(client.get("/no-such-page"))
