"""CSRF on every state-changing route, GET changes nothing, and the API opens to bearer tokens only.

With `WTF_CSRF_ENABLED`, each POST of the app, sent valid by someone allowed to but without a token or with a
forged one, answers 400 with the Chinese page and leaves every table and file as it was. The same request with
the page's own token goes through, so the refusal is the token's doing. The API under /api/v1 is exempt from
CSRF because a cookie never opens it: a cookie-authenticated call to any API route answers 401.
"""
from __future__ import annotations

import re

import pytest

from tests.security.access_matrix import MATRIX, ROWS
from tests.security.conftest import changes, client_for, configured, send, undone
from tests.security.valid_forms import OVERRIDES, VALID, actor_for, valid_request

WEB_POSTS = sorted(endpoint for endpoint in VALID if not endpoint.startswith("api."))
API_ROUTES = [row.endpoint for row in MATRIX if row.endpoint.startswith("api.") and row.endpoint != "api.openapi"]
FORGED = {"none": {}, "forged": {"csrf_token": "IjEyMzQ1Njc4OTAi.forged.signature"}}


@pytest.fixture
def csrf(world):
    with configured(world, WTF_CSRF_ENABLED=True):
        yield world


def _target(world, endpoint):
    role = actor_for(endpoint)
    path = (OVERRIDES.get(endpoint, (None, None, None))[1] or ROWS[endpoint].path)(world)
    return role, path


@pytest.mark.parametrize("token", list(FORGED))
@pytest.mark.parametrize("endpoint", WEB_POSTS)
def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(csrf, endpoint, token):
    world = csrf
    role, path = _target(world, endpoint)
    data, options = valid_request(world, endpoint)
    with undone(world.session, world.storage):
        response = send(world, role, "POST", path, data={**data, **FORGED[token]}, keep=True, **options)
        changed = changes(world)
    assert response.status_code == 400, f"{role} {path} without a valid token: {response.status_code}"
    assert "请求无效" in response.get_data(as_text=True)
    assert changed == []


@pytest.mark.parametrize("endpoint", ["reporting.report_form", "admin.user_set_active", "reporting.round_close",
                                      "agencies.contact_remove", "reminders.mail_resume"])
def test_the_same_post_with_the_pages_token_goes_through(csrf, endpoint):
    world = csrf
    role, path = _target(world, endpoint)
    client = client_for(world, role)
    with undone(world.session, world.storage):
        page = client.get("/units").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"|name="csrf_token"[^>]*value="([^"]+)"', page)
        data, options = valid_request(world, endpoint)
        response = client.post(path, data={**data, "csrf_token": token.group(1) or token.group(2)}, **options)
    assert response.status_code == 302, f"{endpoint}: {response.status_code}"


@pytest.mark.parametrize("endpoint", API_ROUTES)
def test_a_session_cookie_never_opens_the_api(world, endpoint):
    row = ROWS[endpoint]
    method = "GET" if row.get else "PUT"
    body = {"json": {"progress_text": "用会话 cookie 提交", "submit": True}} if method == "PUT" else {}
    with undone(world.session, world.storage):
        response = send(world, "office", method, row.path(world), keep=True, **body)
        changed = changes(world)
    assert response.status_code == 401 and response.is_json, f"{endpoint}: {response.status_code}"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert changed == []


def test_the_api_needs_no_csrf_token_because_it_takes_bearer_tokens_only(csrf):
    world = csrf
    path = f"/api/v1/assignments/{world.lead_assignment}/report"
    response = send(world, "lead", "PUT", path, api=True, json={"progress_text": "接口报送", "submit": False})
    assert response.status_code == 200 and response.get_json()["report"]["status"] == "draft"


@pytest.mark.parametrize("endpoint", sorted(row.endpoint for row in MATRIX if row.get))
def test_a_get_request_changes_nothing(world, endpoint):
    row = ROWS[endpoint]
    role = "office" if row.expected("get")["office"] != "login" else "anonymous"
    with undone(world.session, world.storage):
        send(world, role, "GET", row.path(world), api=endpoint.startswith("api."), keep=True)
        changed = changes(world, audit=False)
    assert changed == [], endpoint
