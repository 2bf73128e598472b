"""Sessions really end: logout, disabling, a password change, and the idle and absolute timeouts."""
from __future__ import annotations

from datetime import timedelta

from tracker import time
from tracker.accounts.models import UserRole
from tests.factories import TEST_PASSWORD

NEW_PASSWORD = "a long and unusual passphrase"


def is_sent_to_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_copy_of_the_session_cookie_stops_working_after_logout(client, auth, make_user):
    make_user(username="wang")
    assert auth.login_form("wang").status_code == 302
    assert client.get("/units").status_code == 200
    copied = client.get_cookie("session").value
    assert auth.logout().status_code == 302
    client.set_cookie("session", copied)
    assert is_sent_to_login(client.get("/units"))


def test_logging_out_ends_the_users_sessions_in_other_browsers_too(client, auth, make_user, other_browser):
    user = make_user(username="li")
    auth.login(user)
    other_browser.login(user)
    auth.logout()
    assert is_sent_to_login(other_browser.client.get("/units"))


def test_a_user_the_office_disables_is_sent_to_login_on_the_next_request(client, auth, make_user, other_browser):
    user = auth.login(make_user(UserRole.unit, username="zhao"))
    assert client.get("/units").status_code == 200
    other_browser.login_as(UserRole.office)
    assert other_browser.client.post(f"/admin/users/{user.id}/active", data={"is_active": "0"}).status_code == 302
    assert is_sent_to_login(client.get("/units"))
    assert auth.login_form("zhao").status_code == 401


def test_changing_the_password_ends_the_users_other_session_but_keeps_this_one(
        client, auth, make_user, other_browser):
    user = auth.login(make_user(username="qian"))
    other_browser.login(user)
    assert other_browser.client.get("/units").status_code == 200
    response = client.post("/account/password", data={"current_password": TEST_PASSWORD,
                                                       "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert is_sent_to_login(other_browser.client.get("/units"))
    assert client.get("/units").status_code == 200


def test_a_password_reset_by_the_office_ends_the_users_sessions(client, auth, make_user, other_browser):
    user = auth.login(make_user(username="sun"))
    other_browser.login_as(UserRole.office)
    other_browser.client.post(f"/admin/users/{user.id}/password", data={"password": NEW_PASSWORD,
                                                                        "confirm": NEW_PASSWORD})
    assert is_sent_to_login(client.get("/units"))


def test_a_session_idle_longer_than_the_idle_timeout_is_logged_out(app, client, auth, make_user):
    auth.login(make_user())
    idle = app.config["IDLE_TIMEOUT_MINUTES"]
    with client.session_transaction() as cookie:
        cookie["seen_dt"] = (time.now() - timedelta(minutes=idle - 5)).isoformat()
    assert client.get("/units").status_code == 200
    with client.session_transaction() as cookie:
        cookie["seen_dt"] = (time.now() - timedelta(minutes=idle + 1)).isoformat()
    response = client.get("/units")
    assert is_sent_to_login(response)
    assert is_sent_to_login(client.get("/units"))  # and it stays logged out


def test_a_session_older_than_the_absolute_timeout_is_logged_out_even_when_active(app, client, auth, make_user):
    auth.login(make_user())
    hours = app.config["ABSOLUTE_TIMEOUT_HOURS"]
    with client.session_transaction() as cookie:
        cookie["login_dt"] = (time.now() - timedelta(hours=hours, minutes=1)).isoformat()
        cookie["seen_dt"] = time.now().isoformat()
    assert is_sent_to_login(client.get("/units"))
    assert is_sent_to_login(client.get("/units"))


def test_a_timed_out_user_is_told_why_in_chinese(app, client, auth, make_user):
    auth.login(make_user())
    with client.session_transaction() as cookie:
        cookie["seen_dt"] = (time.now() - timedelta(days=1)).isoformat()
    response = client.get("/units", follow_redirects=True)
    assert "登录已超时，请重新登录" in response.get_data(as_text=True)
