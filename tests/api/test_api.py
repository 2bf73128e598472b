"""/api/v1: tokens carry exactly their user's permissions; a cookie never opens the API."""
from __future__ import annotations

from sqlmodel import select

from tracker.accounts import tokens
from tracker.accounts.models import ApiToken
from tracker.reporting.models import ReportStatus, RoundAssignment, UnitReport
from tests.conftest import NOW


def water_assignment(session, world):
    return session.exec(select(RoundAssignment).where(RoundAssignment.round_id == world.round.id,
                                                      RoundAssignment.unit_id == world.water.unit_id)).first()


def test_without_a_token_every_call_is_401_in_chinese(call):
    response = call(None, "GET", "/plans")
    assert response.status_code == 401 and "令牌" in response.get_json()["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_browser_session_cookie_does_not_open_the_api(client, auth, api_world):
    auth.login(api_world.office)
    assert client.get("/api/v1/plans").status_code == 401


def test_plans_and_tasks_are_listed_with_their_units_and_targets(call):
    plans = call("water", "GET", "/plans").get_json()["items"]
    assert plans == [{"slug": "hohhot", "title": "呼和浩特市“十四五”节能减排综合工作实施方案", "start_year": 2021,
                      "end_year": 2025, "task_count": 21}]
    page = call("water", "GET", "/plans/hohhot/tasks?size=5").get_json()
    assert page["total"] == 21 and len(page["items"]) == 5
    first = call("water", "GET", f"/tasks/{page['items'][0]['id']}").get_json()
    assert [u["name"] for u in first["lead_units"]] == ["市工业和信息化局", "市发展改革委"]
    assert {"measure": "创建绿色工厂", "comparator": ">=", "value": "35", "unit": "家"}.items() <= \
        next(t for t in first["targets"] if t["measure"] == "创建绿色工厂").items()


def test_a_unit_sees_its_own_assignments_and_not_another_units(session, call, api_world):
    mine = call("water", "GET", "/me/assignments").get_json()
    assert mine["total"] > 0 and all(item["status"] == "not_started" for item in mine["items"])
    assignment = water_assignment(session, api_world)
    assert call("water", "GET", f"/assignments/{assignment.id}").status_code == 200
    other = session.exec(select(RoundAssignment).where(RoundAssignment.unit_id != api_world.water.unit_id,
                                                       RoundAssignment.task_id != assignment.task_id)).first()
    assert call("water", "GET", f"/assignments/{other.id}").status_code == 404


def test_a_unit_submits_its_report_through_the_api(session, call, api_world):
    assignment = water_assignment(session, api_world)
    draft = call("water", "PUT", f"/assignments/{assignment.id}/report",
                 json={"progress_text": "完成管网改造 12 公里", "values": {}, "submit": False})
    assert draft.status_code == 200 and draft.get_json()["report"]["status"] == "draft"
    injected = call("water", "PUT", f"/assignments/{assignment.id}/report",
                    json={"progress_text": "完成管网改造 12 公里", "submit": True, "status": "accepted",
                          "unit_id": api_world.industry.unit_id})
    assert injected.status_code == 422 and "status" in injected.get_json()["error"]["message"]
    submitted = call("water", "PUT", f"/assignments/{assignment.id}/report",
                     json={"progress_text": "完成管网改造 12 公里", "submit": True})
    report = submitted.get_json()["report"]
    assert submitted.status_code == 200 and report["status"] == "submitted"
    stored = session.exec(select(UnitReport).where(UnitReport.assignment_id == assignment.id)).one()
    assert stored.status is ReportStatus.submitted and stored.unit_id == api_world.water.unit_id
    again = call("water", "PUT", f"/assignments/{assignment.id}/report", json={"progress_text": "改", "submit": False})
    assert again.status_code == 409


def test_another_unit_cannot_report_for_this_one(session, call, api_world):
    assignment = water_assignment(session, api_world)
    response = call("industry", "PUT", f"/assignments/{assignment.id}/report", json={"progress_text": "冒名"})
    assert response.status_code in (403, 404)
    assert session.exec(select(UnitReport).where(UnitReport.assignment_id == assignment.id)).first() is None


def test_bad_input_answers_with_a_field_and_a_chinese_message(session, call, api_world):
    assignment = water_assignment(session, api_world)
    not_json = call("water", "PUT", f"/assignments/{assignment.id}/report", data="x", content_type="text/plain")
    assert not_json.status_code == 400
    blank = call("water", "PUT", f"/assignments/{assignment.id}/report", json={"progress_text": " ", "submit": True})
    assert blank.status_code == 422 and blank.get_json()["error"]["field"] == "progress_text"
    wrong = call("water", "PUT", f"/assignments/{assignment.id}/report", json={"values": {"1": "十二"}})
    assert wrong.status_code == 422


def test_a_revoked_token_and_a_disabled_users_token_stop_at_once(session, call, api_world):
    token = session.exec(select(ApiToken).where(ApiToken.user_id == api_world.water.id)).one()
    tokens.revoke_token(session, token.id, actor=api_world.water, now=NOW)
    assert call("water", "GET", "/me").status_code == 401
    api_world.industry.is_active = False
    session.commit()
    assert call("industry", "GET", "/me").status_code == 401


def test_tokens_are_kept_only_as_a_hash(session, api_world):
    secret = api_world.tokens["office1"]
    stored = session.exec(select(ApiToken).where(ApiToken.user_id == api_world.office.id)).one()
    assert secret not in (stored.token_hash, stored.prefix) and stored.token_hash == tokens.digest(secret)


def test_the_office_sees_every_round_with_its_completeness(call, api_world):
    detail = call("office1", "GET", f"/rounds/{api_world.round.id}").get_json()
    assert detail["label"] == "2025年第三季度调度" and detail["completeness"]["total"] > 0


def test_the_openapi_document_is_served_without_a_token(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.0") and "/assignments/{assignment_id}/report" in document["paths"]


def test_tokens_are_created_shown_once_and_revoked_in_the_browser(client, auth, session, api_world):
    auth.login(api_world.water)
    created = client.post("/account/tokens", data={"name": "统计局数据对接"})
    page = created.get_data(as_text=True)
    assert created.status_code == 200 and "只显示这一次" in page
    secret = page.split('<code class="token-secret">')[1].split("</code>")[0]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert secret not in client.get("/account/tokens").get_data(as_text=True)
    token = session.exec(select(ApiToken).where(ApiToken.name == "统计局数据对接")).one()
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_unknown_and_empty_query_parameters_are_refused(call):
    assert call("water", "GET", "/plans/hohhot/tasks?sort=title").status_code == 400
    assert call("water", "GET", "/evaluations?plan_id=&year=").status_code == 400
    assert call("water", "GET", "/rounds?page=1&page=2").status_code == 400
