"""The route × role matrix of access_matrix.py, checked row by row, column by column, role by role."""
from __future__ import annotations

import pytest

from tests.security.access_matrix import MATRIX, OUTCOMES, ROWS
from tests.security.conftest import ROLES, outcome, send
from tests.security.valid_forms import VALID, valid_request

CASES = [(row.endpoint, column, role) for row in MATRIX for column in ("get", "post", "valid")
         if getattr(row, column) is not None for role in ROLES]


def _methods(rule) -> set[str]:
    return set(rule.methods) - {"HEAD", "OPTIONS"}


def test_every_rule_of_the_url_map_has_a_row_and_every_row_a_rule(world):
    rules = {rule.endpoint: rule for rule in world.app.url_map.iter_rules() if rule.endpoint != "static"}
    missing = sorted(set(rules) - set(ROWS))
    assert not missing, f"routes without a row in tests/security/access_matrix.py: {missing}"
    stale = sorted(set(ROWS) - set(rules))
    assert not stale, f"rows for routes that no longer exist: {stale}"
    assert len(ROWS) == len(MATRIX), "an endpoint has two rows"


def test_each_row_has_a_column_for_exactly_the_methods_its_rule_accepts(world):
    for rule in world.app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        row, methods = ROWS[rule.endpoint], _methods(rule)
        assert (row.get is not None) == ("GET" in methods), rule.endpoint
        writes = bool(methods & {"POST", "PUT", "PATCH", "DELETE"})
        assert (row.post is not None) == writes and (row.valid is not None) == writes, rule.endpoint
        assert not writes or rule.endpoint in VALID, f"{rule.endpoint} has no valid submission in valid_forms.py"
        assert not methods - {"GET", "POST", "PUT"}, f"{rule.endpoint}: the matrix sends no {methods}"


def test_the_matrix_speaks_only_its_documented_vocabulary():
    for row in MATRIX:
        for column in ("get", "post", "valid"):
            if getattr(row, column) is not None:
                unknown = set(row.expected(column).values()) - OUTCOMES
                assert not unknown, f"{row.endpoint} {column}: {unknown}"


def test_anonymous_and_disabled_users_get_nothing_but_the_public_pages():
    public = {"accounts.login", "health", "api.openapi"}
    for row in MATRIX:
        for column in ("get", "post", "valid"):
            if getattr(row, column) is None or row.endpoint in public:
                continue
            expected = row.expected(column)
            closed = "unauthorized" if row.endpoint.startswith("api.") else "login"
            assert expected["anonymous"] == expected["disabled"] == closed, (row.endpoint, column)


@pytest.mark.parametrize("endpoint, column, role", CASES, ids=[f"{e}-{c}-{r}" for e, c, r in CASES])
def test_each_role_gets_the_documented_outcome(world, endpoint, column, role):
    row = ROWS[endpoint]
    path = row.path(world)
    rule = next(r for r in world.app.url_map.iter_rules() if r.endpoint == endpoint)
    method = "GET" if column == "get" else ("PUT" if "PUT" in rule.methods else "POST")
    api = endpoint.startswith("api.")
    if column == "valid":
        data, options = valid_request(world, endpoint)
    else:
        data, options = ({} if method != "GET" else None), {}
    response = send(world, role, method, path, data=data, api=api, **options)
    expected = row.expected(column)[role]
    assert outcome(response) == expected, (
        f"{role} {method} {path} ({column}): expected {expected}, got {outcome(response)} "
        f"{response.status_code} {response.headers.get('Location', '')}")
    assert response.status_code < 500
