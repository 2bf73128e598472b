"""SQL injection and bad input in every filter, search and paging parameter of every list page and API list.

No page or API list takes a sort parameter (lists have one fixed order). For each parameter a baseline is asked
first with a harmless value of the same kind that matches nothing (or is ignored); each probe must then answer
without a 500, show no more table rows (or API items) than that baseline, show no password hash, and leave the
tables in place. A NUL character answers 400 (PostgreSQL cannot hold it), a huge number is no number.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.security.conftest import OWN_UNIT, send

PROBES = {
    "quote": "' OR '1'='1",
    "stacked": "1; DROP TABLE units--",
    "union": "%' UNION SELECT password_hash FROM users--",
    "parentheses": "1)) OR 1=1--",
    "chinese": "督查' OR 1=1 --",
    "wildcards": "%_%",
    "backslash": "\\",
    "long": "长" * 3000 + "' OR '1'='1",
    "nul": "a\x00b",
    "huge number": "9" * 30,
    "superscript digit": "²",
    "negative": "-1",
    "exponent": "1e999",
}

#: (page, parameter, a value that matches nothing or is ignored, who asks)
PARAMETERS = [
    ("/units", "q", "没有这个单位xyz", "own"),
    ("/units", "kind", "no-such-kind", "own"),
    ("/units", "page", "abc", "own"),
    ("/admin/users", "q", "没有这个人xyz", "office"),
    ("/admin/users", "page", "abc", "office"),
    ("/plans/hohhot/tasks", "q", "没有这项任务xyz", "own"),
    ("/plans/hohhot/tasks", "section", "abc", "own"),
    ("/plans/hohhot/tasks", "lead", "abc", "own"),
    ("/plans/hohhot/tasks", "unit", "abc", "own"),
    ("/plans/hohhot/tasks", "lead_name", "市没有这个局", "own"),
    ("/plans/hohhot/tasks", "unit_name", "市没有这个局", "own"),
    ("/plans/hohhot/tasks", "page", "abc", "own"),
    ("/tasks", "q", "没有这项任务xyz", "own"),
    ("/audit", "action", "no-such-action", "office"),
    ("/audit", "actor", "没有这个人xyz", "office"),
    ("/audit", "start", "not-a-date", "office"),
    ("/audit", "end", "not-a-date", "office"),
    ("/audit", "task", "abc", "office"),
    ("/audit", "page", "abc", "office"),
    ("/rounds", "page", "abc", "own"),
    ("/rounds/{round}", "view", "nothing", "office"),
    ("/rounds/{round}", "page", "abc", "office"),
    ("/mail", "status", "no-such-status", "office"),
    ("/mail", "page", "abc", "office"),
    ("/briefings", "page", "abc", "leader"),
    ("/evaluations", "page", "abc", "own"),
    ("/evaluations/{evaluation}", "page", "abc", "office"),
    ("/dashboard", "round", "abc", "leader"),
    ("/dashboard/charts/sections.svg", "round", "abc", "leader"),
    ("/calendar", "year", "abc", "office"),
    ("/login", "next", "/todo", "anonymous"),
    ("/api/v1/plans/hohhot/tasks", "section", "", "own"),
    ("/api/v1/plans/hohhot/tasks", "lead_unit", "", "own"),
    ("/api/v1/plans/hohhot/tasks", "unit", "", "own"),
    ("/api/v1/plans/hohhot/tasks", "page", "", "own"),
    ("/api/v1/plans/hohhot/tasks", "size", "", "own"),
    ("/api/v1/rounds", "plan_id", "", "own"),
    ("/api/v1/rounds", "page", "", "own"),
    ("/api/v1/evaluations", "plan_id", "", "own"),
    ("/api/v1/evaluations", "year", "", "own"),
]
#: path segments that are text, not ids
SEGMENTS = ["/plans/{probe}", "/plans/{probe}/tasks", "/plans/{probe}/annexes", "/evaluations/indicators/{probe}",
            "/evaluations/energy/{probe}/2023", "/evaluations/measures/{probe}/2023", "/api/v1/plans/{probe}",
            "/api/v1/plans/{probe}/tasks", "/dashboard/charts/{probe}.svg", "/briefings/{briefing}/charts/{probe}.svg"]


def _path(world, template: str, probe: str = "") -> str:
    from urllib.parse import quote
    return template.format(round=world.round_id, evaluation=world.evaluation_computed, briefing=world.briefing_published,
                           probe=quote(probe, safe=""))


def _rows(response) -> int:
    if response.is_json:
        body = response.get_json()
        return len(body.get("items", [])) if isinstance(body, dict) else 0
    return response.get_data(as_text=True).count("<tr")


def _get(world, role, path, name, value):
    from urllib.parse import urlencode
    query = urlencode({name: value}) if value != "" else ""
    return send(world, role, "GET", f"{path}?{query}" if query else path, api=path.startswith("/api/"))


def _tables_intact(world) -> tuple[int, int]:
    session = world.session
    return (session.execute(sa.text("SELECT count(*) FROM units")).scalar_one(),
            session.execute(sa.text("SELECT count(*) FROM users")).scalar_one())


@pytest.mark.parametrize("probe", list(PROBES))
@pytest.mark.parametrize("page, name, harmless, role", PARAMETERS, ids=[f"{p} {n}" for p, n, _, _ in PARAMETERS])
def test_a_probe_in_a_list_parameter_gives_no_error_and_no_extra_rows(world, page, name, harmless, role, probe):
    path = _path(world, page)
    # the app drops % and _ from a search (LIKE wildcards), so "%_%" is no search at all: all rows, as with none
    plain = harmless if probe != "wildcards" else ""
    key = ("baseline", path, name, plain)
    if key not in world.cache:
        world.cache[key] = _get(world, role, path, name, plain)
    baseline = world.cache[key]
    assert baseline.status_code in (200, 302), f"{path} {name}={plain!r}: {baseline.status_code}"
    before = _tables_intact(world)
    response = _get(world, role, path, name, PROBES[probe])
    body = response.get_data(as_text=True)
    assert response.status_code < 500, f"{path} {name}={probe}: {response.status_code}"
    if probe == "nul":
        assert response.status_code == 400 and "NUL" in body
    assert "$argon2" not in body, f"{path} {name}={probe}: a password hash is on the page"
    if response.status_code == 200 and baseline.status_code == 200:
        assert _rows(response) <= _rows(baseline), f"{path} {name}={probe}: more rows than a filter matching nothing"
    if path.startswith("/api/") and response.status_code != 200:
        assert response.status_code == 400 and response.is_json and response.get_json()["error"]["code"]
    assert _tables_intact(world) == before


@pytest.mark.parametrize("probe", list(PROBES))
@pytest.mark.parametrize("segment", SEGMENTS)
def test_a_probe_in_a_text_path_segment_is_not_found(world, segment, probe):
    path = _path(world, segment, PROBES[probe])
    response = send(world, "office", "GET", path, api=path.startswith("/api/"))
    assert response.status_code in ((400,) if probe == "nul" else (404,)), f"{path}: {response.status_code}"
    assert "$argon2" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/tasks/{big}", "/rounds/{big}", "/assignments/{big}", "/attachments/{big}",
                                  "/units/{big}", "/units/{big}/edit", "/admin/users/{big}", "/evaluations/{big}",
                                  "/briefings/{big}", "/mail/{big}", "/units/groups/{big}",
                                  "/evaluations/indicators/hohhot/{big}/chart.svg", "/api/v1/tasks/{big}",
                                  "/api/v1/rounds/{big}", "/api/v1/assignments/{big}", "/api/v1/evaluations/{big}"])
def test_an_id_too_big_for_the_database_is_not_found(world, path):
    """Regression: an id beyond 2**63 overflowed the database driver (a 500) on most object pages."""
    for big in ("9" * 20, "2147483648", "9" * 400):
        full = path.format(big=big)
        response = send(world, "office", "GET", full, api=full.startswith("/api/"))
        assert response.status_code == 404, f"{full}: {response.status_code}"


@pytest.mark.parametrize("endpoint, path, data", [
    ("a new user's unit", "/admin/users/new", {"username": "sec-big", "display_name": "大数", "unit_id": "9" * 20,
                                                "role": "unit", "email": "big@example.gov.cn",
                                                "password": "a long passphrase 2025",
                                                "confirm": "a long passphrase 2025"}),
    ("a group's members", "/units/groups/{group}", {"unit_ids": ["9" * 20]}),
    ("a unit's parent", "/units/new", {"name": "市大数测试局", "kind": "department", "parent_id": "9" * 20}),
    ("a briefing's round", "/briefings/new", {"round_id": "9" * 20, "title": "通报", "issue_date": "2025-10-01"}),
    ("a briefing's evaluation", "/briefings/new", {"round_id": "{round}", "evaluation_id": "9" * 20, "title": "通报",
                                                   "issue_date": "2025-10-01"}),
    ("a preview's round", "/briefings/preview", {"round_id": "9" * 20, "title": "通报", "issue_date": "2025-10-01"}),
    ("a POST to a huge id", "/evaluations/{big}/compute", {}),
    ("a token revoked by a huge id", "/account/tokens/{big}/revoke", {}),
])
def test_a_huge_number_in_a_form_is_refused_in_chinese(world, endpoint, path, data):
    """Regression: these ids reached the database unchecked and overflowed its driver (a 500)."""
    full = path.format(group=world.group_id, big="9" * 20, round=world.round_id)
    typed = {k: (v.format(round=world.round_id) if isinstance(v, str) else v) for k, v in data.items()}
    response = send(world, "office", "POST", full, data=typed)
    assert response.status_code in (404, 422), f"{endpoint}: {response.status_code}"


def test_text_with_a_nul_is_refused_before_it_reaches_the_database(world):
    """Regression: on PostgreSQL a NUL in any text (a search, a login name, a form field) was a 500."""
    attempts = [("anonymous", "POST", "/login", {"username": "sec-own\x00", "password": "x"}, {}),
                ("office", "POST", "/units/new", {"name": "市\x00局", "kind": "department"}, {}),
                ("own", "POST", f"/assignments/{world.own_assignment}", {"progress_text": "进展\x00"}, {}),
                ("office", "GET", "/units?q=%00", None, {}),
                ("office", "GET", "/plans/ho%00hot", None, {}),
                ("lead", "PUT", f"/api/v1/assignments/{world.lead_assignment}/report", None,
                 {"json": {"progress_text": "进展\u0000", "submit": False}, "api": True})]
    for role, method, path, data, options in attempts:
        response = send(world, role, method, path, data=data, **options)
        assert response.status_code == 400, f"{role} {method} {path}: {response.status_code}"
        if not path.startswith("/api/"):
            assert "NUL" in response.get_data(as_text=True) and "Traceback" not in response.get_data(as_text=True)
        else:
            assert response.get_json()["error"]["code"] == "bad_request"


def test_the_task_list_shortcut_passes_on_only_the_lists_own_filters(world):
    """Regression: /tasks?slug=x and /tasks?_method=x were a 500 (every argument went to url_for)."""
    for query in ("slug=x", "_method=POST", "_external=1&_scheme=https", "_anchor=top", "q=绿色&section=1&evil=1"):
        response = send(world, "own", "GET", f"/tasks?{query}")
        assert response.status_code == 302, query
        location = response.headers["Location"]
        assert location.startswith("/plans/hohhot/tasks") and "evil" not in location and "#" not in location, query


def test_a_unicode_digit_is_no_number(world):
    """Regression: "²".isdigit() is true but int("²") raises: these parameters were a 500."""
    for role, path in (("own", "/plans/hohhot/tasks?section=²"), ("leader", "/dashboard?round=²"),
                       ("office", "/calendar?year=²"), ("office", "/calendar?year=" + "9" * 5000),
                       ("own", "/api/v1/rounds?page=²"), ("own", "/api/v1/rounds?plan_id=²"),
                       ("own", "/api/v1/plans/hohhot/tasks?size=²")):
        response = send(world, role, "GET", path, api=path.startswith("/api/"))
        assert response.status_code in (200, 400), f"{path}: {response.status_code}"
    body = {"progress_text": "进展", "values": {"²": "1"}}
    response = send(world, "lead", "PUT", f"/api/v1/assignments/{world.lead_assignment}/report", api=True, json=body)
    assert response.status_code == 422


def test_a_search_for_a_units_name_still_finds_it(world):
    """The probes above are not answered by a search that finds nothing at all."""
    found, nothing = send(world, "own", "GET", "/units?q=" + OWN_UNIT), send(world, "own", "GET", "/units?q=没有xyz")
    assert found.status_code == 200 and _rows(found) > _rows(nothing)
