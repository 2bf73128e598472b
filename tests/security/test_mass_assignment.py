"""Mass assignment: every form of the app, posted valid by someone allowed to, with fields it does not have added
(`unit_id`, `status`, `role`, `light`, `is_active`, `session_epoch`, `password_hash`, `grade` …). The request is
accepted as if they were not there, and no row it writes or changes carries an injected value in a column of that
name. A field that is the form's own (the user form's `role`, the consolidated report's `light_override`) is not
injected into that form.
"""
from __future__ import annotations

from datetime import datetime
from enum import Enum

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from tests.security.access_matrix import ROWS
from tests.security.conftest import outcome, send, undone
from tests.security.valid_forms import OVERRIDES, VALID, actor_for, valid_request


def injected(world) -> dict[str, str]:
    """Plausible values (a real unit, a real user), so a careless form would store them; the unit is in no task,
    so no legitimate write names it."""
    return {"unit_id": str(world.units["市诱饵测试局"]), "status": "accepted", "role": "office", "light": "red",
            "light_override": "red", "is_active": "0", "is_late": "1", "submitted_dt": "2020-01-01T00:00:00",
            "review_status": "accepted", "session_epoch": "4242", "password_hash": "$argon2id$v=19$forged",
            "user_id": str(world.users["disabled"]), "plan_id": "424242", "round_id": "424242", "version": "4242",
            "grade": "篡改等级", "total": "4242", "number": "4242"}


#: refused whatever it carries: the API answers 422 to a field it does not know (tested below)
SKIP = {"api.report_save"}
CASES = sorted(endpoint for endpoint in VALID if endpoint not in SKIP)


def _snapshot(session) -> dict[str, dict]:
    session.expire_all()
    tables = {}
    for table in SQLModel.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        rows = session.execute(sa.select(table)).mappings().all()
        tables[table.name] = {tuple(row[k.name] for k in keys): dict(row) for row in rows}
    return tables


def _is(value, text: str) -> bool:
    """Whether a stored value is the injected text."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value is (text == "1")
    if isinstance(value, Enum):
        return value.value == text
    if isinstance(value, datetime):
        return value.year == 2020
    return str(value) == text


def _applied(before: dict, after: dict, values: dict[str, str]) -> list[str]:
    found = []
    for table, rows in after.items():
        for key, row in rows.items():
            old = before[table].get(key)
            for name, text in values.items():
                if name in row and (old is None or old[name] != row[name]) and _is(row[name], text):
                    found.append(f"{table}.{name}={row[name]!r} (row {key})")
    return found


@pytest.mark.parametrize("endpoint", CASES)
def test_fields_a_form_does_not_have_are_ignored(world, endpoint):
    role = actor_for(endpoint)
    assert role, f"nobody may post {endpoint}: give it an override"
    path = (OVERRIDES.get(endpoint, (None, None, None))[1] or ROWS[endpoint].path)(world)
    data, options = valid_request(world, endpoint)
    values = {name: text for name, text in injected(world).items() if name not in data}
    method = "PUT" if endpoint.startswith("api.") else "POST"
    with undone(world.session, world.storage):
        before = _snapshot(world.session)
        response = send(world, role, method, path, data={**data, **values}, keep=True, **options)
        after = _snapshot(world.session)
    expected = OVERRIDES[endpoint][2] if endpoint in OVERRIDES else ROWS[endpoint].expected("valid")[role]
    assert outcome(response) == expected, (
        f"{role} {path}: the valid form with extra fields answered {response.status_code}, not {expected}")
    assert _applied(before, after, values) == [], f"{endpoint} applied injected fields"


def test_the_lead_cannot_set_status_or_light_through_the_consolidated_report_form(world):
    """The one form with a light: only an override with a reason, never `light` or `review_status` itself."""
    path = f"/rounds/{world.round_id}/tasks/{world.task_id}/consolidate"
    data = {"progress": "in_progress", "progress_pct": "50", "narrative": "汇总", "light_override": "",
            "light": "green", "review_status": "accepted", "status": "accepted", "unit_id": str(world.units["市水务局"])}
    with undone(world.session, world.storage):
        assert send(world, "lead", "POST", path, data=data, keep=True).status_code == 302
        row = world.session.execute(sa.text("SELECT review_status, light_override, unit_id FROM task_reports "
                                            "WHERE id = :id"), {"id": world.task_report_id}).one()
    assert (row.review_status, row.light_override, row.unit_id) == ("submitted", None, world.units["市住房和城乡建设局"])


def test_the_user_form_cannot_change_a_password_or_a_session(world):
    path = f"/admin/users/{world.users['own']}"
    data, _ = valid_request(world, "admin.user_edit")
    with undone(world.session, world.storage):
        before = world.session.execute(sa.text("SELECT password_hash, session_epoch, username, is_active FROM users "
                                               "WHERE id = :id"), {"id": world.users["own"]}).one()
        send(world, "office", "POST", path, data={**data, "password_hash": "x", "session_epoch": "9",
                                                   "username": "renamed", "is_active": "0"}, keep=True)
        after = world.session.execute(sa.text("SELECT password_hash, session_epoch, username, is_active FROM users "
                                              "WHERE id = :id"), {"id": world.users["own"]}).one()
    assert tuple(after) == tuple(before)


@pytest.mark.parametrize("field", ["status", "unit_id", "is_late", "submitted_dt", "review_status", "assignment_id"])
def test_the_api_refuses_a_report_with_a_field_it_does_not_know(world, field):
    path = f"/api/v1/assignments/{world.lead_assignment}/report"
    with undone(world.session, world.storage):
        response = send(world, "lead", "PUT", path, api=True, keep=True,
                        json={"progress_text": "进展", "submit": False, field: "accepted"})
        count = world.session.execute(sa.text("SELECT count(*) FROM unit_reports WHERE assignment_id = :id"),
                                      {"id": world.lead_assignment}).scalar_one()
    assert response.status_code == 422 and response.get_json()["error"]["field"] == field
    assert count == 0
