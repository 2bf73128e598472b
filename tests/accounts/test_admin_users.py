"""The office manages users: list, create, edit, disable, reset passwords — and nobody else can."""
from __future__ import annotations

import pytest
from sqlmodel import select

from tracker.accounts.models import User, UserRole
from tracker.accounts.services import _verify
from tracker.audit.models import AuditEvent
from tests.accounts.conftest import text_of
from tests.factories import TEST_PASSWORD

NEW_PASSWORD = "a long and unusual passphrase"


@pytest.fixture
def office(auth, make_unit):
    return auth.login_as(UserRole.office, unit=make_unit("市政府办公室"), username="duchake")


def new_user_form(unit, **changes):
    form = {"username": "zhangsan", "display_name": "张三", "unit_id": str(unit.id), "role": "unit",
            "email": "zhangsan@example.gov.cn", "phone": "0471-1234567", "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD}
    form.update(changes)
    return form


def edit_form(user, **changes):
    form = {"display_name": user.display_name, "unit_id": str(user.unit_id), "role": user.role.value,
            "email": user.email, "phone": user.phone or ""}
    form.update(changes)
    return form


def actions(session) -> list[str]:
    return [event.action for event in session.exec(select(AuditEvent).order_by(AuditEvent.id))]


# --- the list -------------------------------------------------------------------------------------

def test_the_user_list_shows_role_unit_email_state_and_last_login(client, office, make_user, make_unit):
    make_user(UserRole.coordinator, unit=make_unit("市发展改革委"), username="fgw")
    make_user(UserRole.unit, unit=make_unit("市统计局"), username="tjj", is_active=False)
    page = text_of(client.get("/admin/users"))
    assert "fgw" in page and "统筹单位" in page and "市发展改革委" in page
    assert "tjj" in page and "已停用" in page and "承办单位" in page
    assert "从未登录" in page and "@example.gov.cn" in page
    assert "用户管理" in page  # the navigation item


def test_searching_the_user_list_by_name_keeps_only_matches(client, office, make_user):
    make_user(username="wangwu")
    make_user(username="zhaoliu")
    page = text_of(client.get("/admin/users?q=wang"))
    assert "wangwu" in page and "zhaoliu" not in page and "共 1 个用户" in page


# --- creating -------------------------------------------------------------------------------------

def test_the_office_creates_a_user_who_can_then_log_in(client, session, office, make_unit, other_browser):
    unit = make_unit("市水务局")
    response = client.post("/admin/users/new", data=new_user_form(unit))
    assert response.status_code == 302
    user = session.exec(select(User).where(User.username == "zhangsan")).one()
    assert (user.display_name, user.unit_id, user.role, user.email) == ("张三", unit.id, UserRole.unit,
                                                                        "zhangsan@example.gov.cn")
    assert "user.created" in actions(session)
    assert other_browser.login_form("zhangsan", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("changes, message", [
    ({"display_name": ""}, "请填写姓名"),
    ({"email": "not-an-address"}, "请填写有效的电子邮箱地址"),
    ({"unit_id": ""}, "请选择所属单位"),
    ({"unit_id": "999999"}, "请选择所属单位"),
    ({"role": "superuser"}, "请从列表中选择角色"),
    ({"username": "Bad Name!"}, "用户名只能用小写字母、数字和 . _ -"),
    ({"password": "password1", "confirm": "password1"}, "这个密码太常见"),
    ({"password": "short", "confirm": "short"}, "密码至少需要 8 个字符"),
    ({"confirm": "something else entirely"}, "两次输入的密码不一致"),
])
def test_a_wrong_new_user_form_is_shown_again_in_chinese_with_what_was_typed(
        client, session, office, make_unit, changes, message):
    unit = make_unit("市林草局")
    form = new_user_form(unit, **{"display_name": "李四", **changes})
    response = client.post("/admin/users/new", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    for name in ("username", "display_name", "email"):
        if form[name]:
            assert f'value="{form[name]}"' in page, name
    if form["unit_id"] == str(unit.id):
        assert f'<option selected value="{unit.id}">' in page
    assert session.exec(select(User).where(User.username == form["username"].lower())).first() is None


def test_a_taken_username_is_refused_on_that_field(client, session, office, make_unit, make_user):
    make_user(username="zhangsan")
    response = client.post("/admin/users/new", data=new_user_form(make_unit()))
    assert response.status_code == 422
    assert "这个用户名已被使用" in response.get_data(as_text=True)
    assert len(session.exec(select(User).where(User.username == "zhangsan")).all()) == 1


# --- editing --------------------------------------------------------------------------------------

def test_the_office_edits_a_users_details_and_a_new_role_ends_their_sessions(
        client, session, office, make_user, make_unit):
    user = make_user(UserRole.unit, username="chen")
    other_unit = make_unit("市住建局")
    epoch = user.session_epoch
    response = client.post(f"/admin/users/{user.id}", data=edit_form(
        user, display_name="陈七", unit_id=str(other_unit.id), role="coordinator", email="chen@example.gov.cn"))
    assert response.status_code == 302
    session.refresh(user)
    assert (user.display_name, user.unit_id, user.role, user.email) == ("陈七", other_unit.id, UserRole.coordinator,
                                                                        "chen@example.gov.cn")
    assert user.session_epoch == epoch + 1
    assert "user.updated" in actions(session)


def test_the_edit_page_shows_the_users_current_values(client, office, make_user):
    user = make_user(UserRole.leader, username="leader1")
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert f'value="{user.display_name}"' in page and f'value="{user.email}"' in page
    assert '<option selected value="leader">领导</option>' in page
    assert f'<option selected value="{user.unit_id}">' in page


def test_a_wrong_edit_is_shown_again_in_chinese_with_what_was_typed(client, session, office, make_user):
    user = make_user(username="sun")
    response = client.post(f"/admin/users/{user.id}", data=edit_form(user, display_name="孙八", email="sun@@bad"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请填写有效的电子邮箱地址" in page and 'value="孙八"' in page and 'value="sun@@bad"' in page
    session.refresh(user)
    assert user.display_name != "孙八"


def test_posting_extra_fields_to_the_edit_form_changes_nothing_but_the_declared_fields(
        client, session, office, make_user):
    user = make_user(UserRole.unit, username="zhou")
    before = (user.username, user.is_active, user.session_epoch, user.password_hash, user.role, user.unit_id)
    form = edit_form(user, display_name="周九", username="hijacked", is_active="0", session_epoch="99",
                     password_hash="$argon2id$forged", created_dt="2000-01-01T00:00:00", id="1")
    assert client.post(f"/admin/users/{user.id}", data=form).status_code == 302
    session.refresh(user)
    assert user.display_name == "周九"
    assert (user.username, user.is_active, user.session_epoch, user.password_hash, user.role, user.unit_id) == before


def test_posting_extra_fields_to_the_password_form_changes_only_the_password(
        client, session, auth, make_user, make_unit):
    user = auth.login(make_user(UserRole.unit, username="wu"))
    other_unit = make_unit()
    before = (user.username, user.role, user.unit_id, user.is_active, user.display_name, user.email)
    response = client.post("/account/password", data={
        "current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "role": "office", "unit_id": str(other_unit.id), "is_active": "0", "session_epoch": "99",
        "password_hash": "$argon2id$forged", "username": "hijacked", "display_name": "改名"})
    assert response.status_code == 302
    session.refresh(user)
    assert (user.username, user.role, user.unit_id, user.is_active, user.display_name, user.email) == before
    assert user.session_epoch == 1 and _verify(user.password_hash, NEW_PASSWORD)


def test_posting_extra_fields_to_the_reset_password_form_changes_only_the_password(
        client, session, office, make_user):
    user = make_user(UserRole.unit, username="zheng")
    before = (user.role, user.unit_id, user.is_active, user.display_name)
    response = client.post(f"/admin/users/{user.id}/password", data={
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "role": "office", "is_active": "0",
        "session_epoch": "99", "display_name": "改名"})
    assert response.status_code == 302
    session.refresh(user)
    assert (user.role, user.unit_id, user.is_active, user.display_name) == before
    assert user.session_epoch == 1


# --- disabling and passwords ----------------------------------------------------------------------

def test_the_office_disables_and_re_enables_a_user(client, session, office, make_user):
    user = make_user(username="feng")
    assert client.post(f"/admin/users/{user.id}/active", data={"is_active": "0"}).status_code == 302
    session.refresh(user)
    assert not user.is_active and user.session_epoch == 1
    assert client.post(f"/admin/users/{user.id}/active", data={"is_active": "1"}).status_code == 302
    session.refresh(user)
    assert user.is_active
    assert actions(session)[-2:] == ["user.disabled", "user.enabled"]


def test_the_office_cannot_disable_its_own_account(client, session, office):
    response = client.post(f"/admin/users/{office.id}/active", data={"is_active": "0"}, follow_redirects=True)
    assert "不能停用自己的账号" in text_of(response)
    session.refresh(office)
    assert office.is_active


def test_a_made_up_active_value_is_refused_in_chinese(client, session, office, make_user):
    user = make_user()
    response = client.post(f"/admin/users/{user.id}/active", data={"is_active": "maybe"})
    assert response.status_code == 422 and "操作无效" in response.get_data(as_text=True)
    session.refresh(user)
    assert user.is_active


def test_the_office_resets_a_password_and_the_user_logs_in_with_the_new_one(
        client, session, office, make_user, other_browser):
    user = make_user(username="han")
    assert client.post(f"/admin/users/{user.id}/password",
                       data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert other_browser.login_form("han", TEST_PASSWORD).status_code == 401
    assert other_browser.login_form("han", NEW_PASSWORD).status_code == 302
    assert "password.reset" in actions(session)


@pytest.mark.parametrize("form, message", [
    ({"password": "12345678", "confirm": "12345678"}, "这个密码太常见"),
    ({"password": NEW_PASSWORD, "confirm": "different"}, "两次输入的新密码不一致"),
    ({"password": "", "confirm": ""}, "请填写新密码"),
])
def test_a_refused_password_reset_says_why_in_chinese(client, session, office, make_user, form, message):
    user = make_user()
    old_hash = user.password_hash
    response = client.post(f"/admin/users/{user.id}/password", data=form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    session.refresh(user)
    assert user.password_hash == old_hash


def test_an_unknown_user_id_answers_404(client, office):
    assert client.get("/admin/users/999999").status_code == 404


# --- nobody else ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [UserRole.coordinator, UserRole.unit, UserRole.leader])
def test_anyone_but_the_office_gets_403_on_every_admin_page_and_changes_nothing(
        client, session, auth, make_user, role):
    auth.login_as(role)
    target = make_user(username="target")
    requests = [("get", "/admin/users", None), ("get", "/admin/users/new", None),
                ("get", f"/admin/users/{target.id}", None),
                ("post", "/admin/users/new", {"username": "intruder", "display_name": "x", "role": "office",
                                              "unit_id": str(target.unit_id), "email": "x@example.gov.cn",
                                              "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
                ("post", f"/admin/users/{target.id}", edit_form(target, role="office")),
                ("post", f"/admin/users/{target.id}/active", {"is_active": "0"}),
                ("post", f"/admin/users/{target.id}/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})]
    for method, path, data in requests:
        response = getattr(client, method)(path, data=data)
        assert response.status_code == 403, path
        assert "无权操作" in response.get_data(as_text=True)
    session.refresh(target)
    assert target.role is UserRole.unit and target.is_active and target.session_epoch == 0
    assert session.exec(select(User).where(User.username == "intruder")).first() is None
    assert actions(session).count("permission.denied") == len(requests)


def test_the_navigation_shows_user_management_and_the_audit_log_only_to_the_office(client, auth):
    auth.login_as(UserRole.coordinator)
    page = text_of(client.get("/units"))
    assert "用户管理" not in page and "审计日志" not in page


# --- query budget ---------------------------------------------------------------------------------

def test_the_user_list_makes_the_same_number_of_queries_for_20_and_2000_users(
        client, session, office, make_unit, count_queries):
    from tests.conftest import NOW
    units = [make_unit() for _ in range(20)]
    counts, made = [], 0
    for size in (20, 2000):
        session.add_all([User(username=f"bulk{n:05d}", display_name=f"批量用户{n}", unit_id=units[n % 20].id,
                              role=list(UserRole)[n % 4], email=f"bulk{n}@example.gov.cn", password_hash="x",
                              created_dt=NOW, password_changed_dt=NOW, last_login_dt=NOW if n % 2 else None)
                         for n in range(made, size)])
        session.flush()
        made = size
        with count_queries() as counted:
            response = client.get("/admin/users")
        assert response.status_code == 200 and "bulk" in response.get_data(as_text=True)
        counts.append(counted.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 8
