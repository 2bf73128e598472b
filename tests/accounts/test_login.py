"""Logging in: one message for every failure, a lock kept in the database, an audit trail, no open redirect."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from config import TestConfig
from tracker import create_app, migrate
from tracker.accounts import services
from tracker.accounts.models import LoginAttempt, User, UserRole
from tracker.agencies.models import Unit
from tracker.audit.models import AuditEvent
from tracker.db import Database, make_engine
from tests.accounts.conftest import text_of
from tests.conftest import NOW
from tests.factories import TEST_PASSWORD

THROTTLED = "登录失败次数过多，请 15 分钟后再试"


def error_box(response) -> str:
    page = text_of(response)
    return page[page.index("请先处理以下问题"):page.index("忘记密码")]


def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(client, auth, make_user):
    make_user(username="zhang")
    unknown = auth.login_form("nobody-here", "whatever password")
    wrong = auth.login_form("zhang", "not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert error_box(unknown) == error_box(wrong)
    assert "用户名或密码不正确" in error_box(wrong)


def test_a_disabled_user_gets_the_same_answer_as_a_wrong_password(client, auth, make_user):
    make_user(username="off", is_active=False)
    response = auth.login_form("off")
    assert response.status_code == 401 and "用户名或密码不正确" in error_box(response)


def test_a_blank_login_form_is_refused_in_chinese(client):
    response = client.post("/login", data={"username": "", "password": ""})
    assert response.status_code == 422
    assert "请填写用户名" in response.get_data(as_text=True) and "请填写密码" in response.get_data(as_text=True)


def test_five_failures_lock_the_account_and_the_sixth_try_with_the_right_password_is_refused(
        client, auth, session, make_user):
    make_user(username="li")
    for _ in range(5):
        assert auth.login_form("li", "wrong password").status_code == 401
    refused = auth.login_form("li", TEST_PASSWORD)
    assert refused.status_code == 401 and THROTTLED in text_of(refused)
    assert client.get("/units").status_code == 302  # still not logged in


def test_the_lock_lasts_15_minutes(session, make_user):
    make_user(username="zhou")
    for minute in range(5):
        with pytest.raises(services.LoginFailed):
            services.authenticate(session, "zhou", "wrong", ip="10.0.0.1", now=NOW + timedelta(minutes=minute))
    with pytest.raises(services.LoginThrottled):
        services.authenticate(session, "zhou", TEST_PASSWORD, ip="10.0.0.2", now=NOW + timedelta(minutes=5))
    with pytest.raises(services.LoginThrottled):
        services.authenticate(session, "zhou", TEST_PASSWORD, ip="10.0.0.2", now=NOW + timedelta(minutes=14))
    user = services.authenticate(session, "zhou", TEST_PASSWORD, ip="10.0.0.2", now=NOW + timedelta(minutes=35))
    assert user.username == "zhou"


def test_failed_throttled_and_successful_logins_are_in_the_audit_log(app, client, auth, session, make_user):
    make_user(username="wu")
    auth.login_form("wu", "wrong")
    auth.login_form("wu")
    stranger = app.test_client()
    for _ in range(6):
        stranger.post("/login", data={"username": "ghost", "password": "wrong"})
    events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["login.failed", "login.succeeded"] + ["login.failed"] * 5 + \
        ["login.throttled"]
    assert all(e.origin.startswith("127.0.0.1") for e in events)
    assert "wu" in events[0].summary and "ghost" in events[-1].summary


# --- the lock is shared by every process and survives a restart ------------------------------------

@pytest.fixture
def database_file(tmp_path):
    """A fresh SQLite file migrated to head, with one user, outside the tests' shared session."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        unit = Unit(name="市测试局", created_dt=NOW)
        session.add(unit)
        session.flush()
        session.add(User(username="shared", display_name="共享用户", unit_id=unit.id, role=UserRole.unit,
                         email="shared@example.gov.cn", password_hash=services.hash_password(TEST_PASSWORD),
                         created_dt=NOW, password_changed_dt=NOW))
        session.commit()
    engine.dispose()
    return url


def start_instance(url, tmp_path):
    """One app process: its own engine and sessions, as a gunicorn worker would have."""
    class Config(TestConfig):
        DATABASE_URL = url
        INSTANCE_DIR = tmp_path
        STORAGE_DIR = tmp_path / "storage"
        MAILBOX_DIR = tmp_path / "mailbox"

    database = Database(make_engine(url))
    return create_app(Config, database=database), database


def log_in(app, password):
    return app.test_client().post("/login", data={"username": "shared", "password": password})


def test_the_lock_holds_across_two_app_processes_and_a_restart(database_file, tmp_path):
    first, first_db = start_instance(database_file, tmp_path)
    second, second_db = start_instance(database_file, tmp_path)
    for app in (first, second, first, second, first):
        assert log_in(app, "wrong password").status_code == 401
    refused = log_in(second, TEST_PASSWORD)
    assert refused.status_code == 401 and THROTTLED in text_of(refused)
    first_db.engine.dispose()
    second_db.engine.dispose()

    restarted, restarted_db = start_instance(database_file, tmp_path)
    try:
        refused = log_in(restarted, TEST_PASSWORD)
        assert refused.status_code == 401 and THROTTLED in text_of(refused)
        with Session(restarted_db.engine) as session:
            actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
            attempts = session.exec(select(LoginAttempt)).all()
        assert actions == ["login.failed"] * 5 + ["login.throttled"] * 2
        # refused attempts during the lock are audited but not counted, so the lock cannot be kept going
        assert len(attempts) == 5 and not any(a.succeeded for a in attempts)
    finally:
        restarted_db.engine.dispose()


def test_the_right_password_works_in_another_process_when_there_were_few_failures(database_file, tmp_path):
    first, first_db = start_instance(database_file, tmp_path)
    second, second_db = start_instance(database_file, tmp_path)
    try:
        assert log_in(first, "wrong password").status_code == 401
        assert log_in(second, TEST_PASSWORD).status_code == 302
    finally:
        first_db.engine.dispose()
        second_db.engine.dispose()


# --- where a login leads ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example",
                                    "http://evil.example/login", "\\\\evil.example", "///evil.example"])
def test_the_next_parameter_cannot_lead_to_another_host(app, make_user, target):
    make_user(username="next-test")
    response = app.test_client().post("/login", query_string={"next": target},
                                      data={"username": "next-test", "password": TEST_PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location
    assert location.startswith("/") and not location.startswith("//")


def test_the_next_parameter_leads_back_to_a_page_of_this_site(app, make_user):
    make_user(username="next-ok")
    response = app.test_client().post("/login?next=/units%3Fkind%3Darea",
                                      data={"username": "next-ok", "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/units?kind=area"


def test_a_page_asked_for_before_login_is_remembered_in_next(client):
    response = client.get("/units?kind=area")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# Known gap, outside this test file's owner's code: `tracker.accounts.web.safe_next` lets ASCII control
# characters through. Browsers drop tab and newline from URLs, so "/\t/evil.example" is followed as
# "//evil.example" (another host), and a newline makes the redirect itself fail with a 500 after the login.
@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example"])
def test_the_next_parameter_cannot_smuggle_another_host_past_the_check_with_control_characters(app, make_user,
                                                                                             target):
    make_user(username="next-ctl")
    response = app.test_client().post("/login", query_string={"next": target},
                                      data={"username": "next-ctl", "password": TEST_PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location


def test_attempts_during_a_lock_do_not_keep_the_account_locked(session, make_user):
    from datetime import timedelta
    from tracker.accounts import services
    user = make_user(username="patient")
    start = NOW
    for minute in range(5):
        with pytest.raises(services.LoginFailed):
            services.authenticate(session, "patient", "wrong", ip="10.0.0.1", now=start + timedelta(minutes=minute))
    for minute in range(5, 15):  # an attacker keeps trying while the account is locked
        with pytest.raises(services.LoginThrottled):
            services.authenticate(session, "patient", "wrong", ip="10.0.0.2", now=start + timedelta(minutes=minute))
    assert services.authenticate(session, "patient", TEST_PASSWORD, ip="10.0.0.3",
                                 now=start + timedelta(minutes=20)).id == user.id
