"""IDOR: every object route, pointed at an object of someone else, answers 404 (outside one's scope) or 403 (may
see, may not act) and changes nothing: every table is compared with the world as built (row by row; the bulky plan
tables by count), and so are the audit entries other than denials and the files in storage. The pages an intruder
may open never carry the other unit's report text.
"""
from __future__ import annotations

import io

import pytest

from tests.security.conftest import OWN_UNIT, PDF, changes, send, undone

SECRET_TEXT = "新城区本期进展"


def _report(w):
    return f"/rounds/{w.round_id}/tasks/{w.task_id}"


def _file():
    return {"file": (io.BytesIO(PDF), "篡改.pdf")}


MULTIPART = {"content_type": "multipart/form-data"}

#: (intruder, method, path, data, request options, expected status, what it tries)
ATTEMPTS = [
    # another unit's report, its assignment and its evidence
    ("other", "GET", lambda w: f"/assignments/{w.own_assignment}", None, {}, 404, "read another unit's report"),
    ("other", "POST", lambda w: f"/assignments/{w.own_assignment}",
     lambda w: {"progress_text": "篡改", "submit_report": "1"}, {}, 404, "write another unit's report"),
    ("other", "POST", lambda w: f"/assignments/{w.own_assignment}/attachments", lambda w: _file(), MULTIPART, 404,
     "upload evidence into another unit's report"),
    ("other", "POST", lambda w: f"/assignments/{w.own_assignment}/attachments/{w.attachment_id}/remove", None, {}, 404,
     "remove another unit's evidence"),
    ("other", "GET", lambda w: f"/attachments/{w.attachment_id}", None, {}, 404, "download another unit's evidence"),
    ("lead", "POST", lambda w: f"/assignments/{w.own_assignment}",
     lambda w: {"progress_text": "篡改", "submit_report": "1"}, {}, 403,
     "the lead unit writing a responsible unit's report"),
    ("lead", "POST", lambda w: f"/assignments/{w.own_assignment}/attachments", lambda w: _file(), MULTIPART, 403,
     "the lead unit uploading into a responsible unit's report"),
    ("lead", "POST", lambda w: f"/assignments/{w.own_assignment}/attachments/{w.attachment_id}/remove", None, {}, 403,
     "the lead unit removing a responsible unit's evidence"),
    ("lead", "POST", lambda w: f"/assignments/{w.lead_assignment}/attachments/{w.attachment_id}/remove", None, {}, 404,
     "removing another report's evidence through one's own assignment"),
    ("own", "GET", lambda w: f"/assignments/{w.lead_assignment}", None, {}, 404,
     "a responsible unit reading the lead's report"),
    ("own", "GET", lambda w: f"/assignments/{w.other_assignment}", None, {}, 404, "reading an unrelated unit's report"),
    ("own", "POST", lambda w: f"/assignments/{w.other_assignment}", lambda w: {"progress_text": "篡改", "save_draft": "1"},
     {}, 404, "writing an unrelated unit's report"),
    ("own", "POST", lambda w: f"/assignments/{w.own_assignment}/attachments/{w.attachment_id}/remove", None, {}, 302,
     "removing one's own evidence after submitting (refused with a message)"),
    ("office", "POST", lambda w: f"/assignments/{w.own_assignment}",
     lambda w: {"progress_text": "篡改", "save_draft": "1"}, {}, 403, "the office writing a unit's report"),
    # the review page and its forms
    ("other", "GET", _report, None, {}, 404, "an unrelated unit opening the review page"),
    ("own", "GET", _report, None, {}, 404, "a responsible unit opening the lead's review page"),
    ("other", "POST", lambda w: f"{_report(w)}/reports/{w.report_id}/review", lambda w: {"decision": "accept"}, {}, 404,
     "an unrelated unit accepting a report"),
    ("own", "POST", lambda w: f"{_report(w)}/reports/{w.report_id}/review", lambda w: {"decision": "accept"}, {}, 404,
     "a unit accepting its own report"),
    ("coordinator", "POST", lambda w: f"{_report(w)}/reports/{w.report_id}/review",
     lambda w: {"decision": "return", "reason": "篡改"}, {}, 403, "a coordinator returning a unit's report"),
    ("lead", "POST", lambda w: f"/rounds/{w.round_id}/tasks/{w.other_task_id}/reports/{w.report_id}/review",
     lambda w: {"decision": "accept"}, {}, 404, "reviewing a report through a task one does not lead"),
    ("other", "POST", lambda w: f"{_report(w)}/consolidate",
     lambda w: {"progress": "completed", "progress_pct": "100", "narrative": "篡改"}, {}, 404,
     "an unrelated unit consolidating the task"),
    ("own", "POST", lambda w: f"{_report(w)}/consolidate",
     lambda w: {"progress": "completed", "progress_pct": "100", "narrative": "篡改"}, {}, 404,
     "a responsible unit consolidating the task"),
    ("lead", "POST", lambda w: f"{_report(w)}/task-report/review", lambda w: {"decision": "accept"}, {}, 403,
     "the lead accepting its own consolidated report"),
    ("other", "POST", lambda w: f"{_report(w)}/task-report/review", lambda w: {"decision": "accept"}, {}, 404,
     "an unrelated unit accepting the consolidated report"),
    ("leader", "POST", lambda w: f"{_report(w)}/task-report/review", lambda w: {"decision": "accept"}, {}, 403,
     "a leader accepting the consolidated report"),
    # rounds
    ("lead", "POST", lambda w: f"/rounds/{w.round_id}/close", None, {}, 403, "a unit closing the round"),
    ("coordinator", "POST", lambda w: f"/rounds/{w.round_id}/close", None, {}, 403, "a coordinator closing the round"),
    ("leader", "GET", lambda w: f"/rounds/{w.round_id}/ledger.xlsx", None, {}, 403, "a leader exporting the ledger"),
    ("other", "GET", lambda w: f"/rounds/{w.round_id}/ledger.xlsx", None, {}, 403, "a unit exporting the ledger"),
    # the directory: units, contacts, aliases
    ("own", "POST", lambda w: f"/units/{w.units[OWN_UNIT]}/edit", lambda w: {"name": "篡改区", "kind": "area"}, {}, 403,
     "a unit renaming itself"),
    ("own", "POST", lambda w: f"/units/{w.units[OWN_UNIT]}/contacts/{w.contact_id}",
     lambda w: {"name": "篡改", "email": "evil@example.com"}, {}, 403, "a unit editing its own contact"),
    ("own", "POST", lambda w: f"/units/{w.units[OWN_UNIT]}/contacts/{w.contact_id}/delete", None, {}, 403,
     "a unit deleting its own contact"),
    ("own", "POST", lambda w: f"/units/{w.units[OWN_UNIT]}/contacts/new",
     lambda w: {"name": "篡改", "email": "evil@example.com"}, {}, 403, "a unit adding a contact"),
    ("other", "GET", lambda w: f"/units/{w.units[OWN_UNIT]}/contacts/{w.contact_id}", None, {}, 403,
     "another unit opening a contact's form"),
    ("office", "GET", lambda w: f"/units/{w.units['市水务局']}/contacts/{w.contact_id}", None, {}, 404,
     "a contact reached through another unit's path"),
    ("office", "POST", lambda w: f"/units/{w.units['市水务局']}/contacts/{w.contact_id}",
     lambda w: {"name": "篡改", "email": "evil@example.com"}, {}, 404, "a contact edited through another unit's path"),
    ("office", "POST", lambda w: f"/units/{w.units['市水务局']}/contacts/{w.contact_id}/delete", None, {}, 404,
     "a contact deleted through another unit's path"),
    ("office", "POST", lambda w: f"/units/{w.units['市水务局']}/aliases/{w.alias_id}/delete", None, {}, 404,
     "an alias deleted through another unit's path"),
    ("own", "POST", lambda w: f"/units/{w.units[OWN_UNIT]}/aliases/{w.alias_id}/delete", None, {}, 403,
     "a unit deleting its alias"),
    ("own", "POST", lambda w: f"/units/{w.units[OWN_UNIT]}/active", lambda w: {"is_active": "0"}, {}, 403,
     "a unit disabling itself"),
    ("own", "POST", lambda w: f"/units/groups/{w.group_id}", lambda w: {"unit_ids": [str(w.units[OWN_UNIT])]}, {}, 403,
     "a unit changing a group"),
    # users
    ("own", "POST", lambda w: f"/admin/users/{w.users['own']}",
     lambda w: {"display_name": "篡改", "unit_id": str(w.units["市水务局"]), "role": "office", "email": "e@example.com"},
     {}, 403, "a user promoting themself to the office"),
    ("coordinator", "POST", lambda w: f"/admin/users/{w.users['own']}/active", lambda w: {"is_active": "0"}, {}, 403,
     "a coordinator disabling a user"),
    ("leader", "POST", lambda w: f"/admin/users/{w.users['own']}/password",
     lambda w: {"password": "a long new passphrase", "confirm": "a long new passphrase"}, {}, 403,
     "a leader resetting a password"),
    # briefings
    ("coordinator", "GET", lambda w: f"/briefings/{w.briefing_draft}", None, {}, 404, "a coordinator reading a draft"),
    ("own", "GET", lambda w: f"/briefings/{w.briefing_draft}/preview", None, {}, 404, "a unit reading a draft's HTML"),
    ("leader", "GET", lambda w: f"/briefings/{w.briefing_draft}/status", None, {}, 404, "a leader polling a draft"),
    ("leader", "GET", lambda w: f"/briefings/{w.briefing_draft}/charts/lights.svg", None, {}, 404,
     "a leader reading a draft's chart"),
    ("coordinator", "POST", lambda w: f"/briefings/{w.briefing_draft}",
     lambda w: {"round_id": str(w.round_id), "title": "篡改", "issue_date": "2025-10-02"}, {}, 403, "editing a draft"),
    ("leader", "POST", lambda w: f"/briefings/{w.briefing_draft}/publish", None, {}, 403, "publishing a draft"),
    ("own", "POST", lambda w: f"/briefings/{w.briefing_published}/publish", None, {}, 403, "republishing"),
    # evaluations: an unpublished version is hidden from unit staff
    ("own", "GET", lambda w: f"/evaluations/{w.evaluation_computed}", None, {}, 404,
     "a unit reading an unpublished evaluation"),
    ("other", "GET", lambda w: f"/evaluations/{w.evaluation_computed}/results.xlsx", None, {}, 404,
     "a unit exporting an unpublished evaluation"),
    ("own", "GET", lambda w: f"/evaluations/{w.evaluation_computed}/areas/{w.units[OWN_UNIT]}", None, {}, 404,
     "a unit reading its area in an unpublished evaluation"),
    ("lead", "POST", lambda w: f"/evaluations/{w.evaluation_computed}/publish", None, {}, 404,
     "a unit publishing an evaluation"),
    ("leader", "POST", lambda w: f"/evaluations/{w.evaluation_computed}/publish", None, {}, 403,
     "a leader publishing an evaluation"),
    ("own", "POST", lambda w: f"/evaluations/{w.evaluation_published}/compute", None, {}, 403,
     "a unit recomputing a published evaluation"),
    # the mail queue
    ("coordinator", "GET", lambda w: f"/mail/{w.message_id}", None, {}, 403, "a coordinator reading a queued email"),
    ("own", "GET", lambda w: f"/mail/{w.message_id}/html", None, {}, 403, "the addressed unit reading the queue's copy"),
    ("leader", "POST", lambda w: f"/mail/{w.message_id}/resend", None, {}, 403, "a leader resending an email"),
    ("other", "POST", "/mail/resume", None, {}, 403, "a unit resuming the queue"),
    ("own", "POST", lambda w: f"/calendar/{w.override_day}/remove", None, {}, 403, "a unit changing the calendar"),
    # tokens
    ("other", "POST", lambda w: f"/account/tokens/{w.token_ids['own']}/revoke", None, {}, 404,
     "revoking another user's token"),
    ("office", "POST", lambda w: f"/account/tokens/{w.token_ids['own']}/revoke", None, {}, 404,
     "the office revoking a user's token through the user's page"),
]

API_ATTEMPTS = [
    ("other", "GET", lambda w: f"/api/v1/assignments/{w.own_assignment}", None, 404, "another unit's assignment"),
    ("other", "PUT", lambda w: f"/api/v1/assignments/{w.own_assignment}/report",
     {"progress_text": "篡改", "submit": True}, 404, "another unit's report"),
    ("lead", "PUT", lambda w: f"/api/v1/assignments/{w.own_assignment}/report",
     {"progress_text": "篡改", "submit": False}, 403, "the lead writing a responsible unit's report"),
    ("own", "GET", lambda w: f"/api/v1/evaluations/{w.evaluation_computed}", None, 404, "an unpublished evaluation"),
    ("other", "GET", lambda w: f"/api/v1/evaluations/{w.evaluation_computed}", None, 404, "an unpublished evaluation"),
    ("disabled", "GET", lambda w: f"/api/v1/assignments/{w.own_assignment}", None, 401, "a disabled user's token"),
]


def _resolve(value, world):
    return value(world) if callable(value) else value


@pytest.mark.parametrize("intruder, method, path, data, options, status, attempt", ATTEMPTS,
                         ids=[a[-1] for a in ATTEMPTS])
def test_an_object_of_someone_else_answers_as_documented_and_nothing_changes(
        world, intruder, method, path, data, options, status, attempt):
    with undone(world.session, world.storage):
        response = send(world, intruder, method, _resolve(path, world), data=_resolve(data, world), keep=True,
                        **options)
        changed = changes(world)
    assert response.status_code == status, f"{attempt}: {response.status_code}"
    assert not changed, f"{attempt} changed {changed}"
    page = response.get_data(as_text=True)
    if status != 302 and intruder not in ("office", "coordinator", "leader", "lead"):
        assert SECRET_TEXT not in page and "zhang@xincheng" not in page


@pytest.mark.parametrize("intruder, method, path, body, status, attempt", API_ATTEMPTS,
                         ids=[a[-1] for a in API_ATTEMPTS])
def test_an_api_object_of_someone_else_answers_as_documented_and_nothing_changes(
        world, intruder, method, path, body, status, attempt):
    with undone(world.session, world.storage):
        response = send(world, intruder, method, path(world), api=True, keep=True,
                        **({"json": body} if body is not None else {}))
        changed = changes(world)
    assert response.status_code == status, f"{attempt}: {response.status_code} {response.get_json()}"
    assert response.is_json and "error" in response.get_json()
    assert changed == []
    assert SECRET_TEXT not in response.get_data(as_text=True)


def test_unit_staff_list_only_published_evaluations_through_the_api(world):
    for role, expected in (("own", {world.evaluation_published}), ("other", {world.evaluation_published}),
                           ("office", {world.evaluation_published, world.evaluation_computed}),
                           ("leader", {world.evaluation_published, world.evaluation_computed})):
        response = send(world, role, "GET", "/api/v1/evaluations", api=True)
        assert {item["id"] for item in response.get_json()["items"]} == expected, role


@pytest.mark.parametrize("path", ["/todo", "/rounds", "/tasks/{task}", "/rounds/{round}", "/rounds/{round}?view=units",
                                  "/units/{unit}", "/api/v1/me/assignments", "/api/v1/rounds/{round}"])
def test_pages_another_unit_may_open_never_show_this_units_report_text(world, path):
    path = path.format(task=world.task_id, round=world.round_id, unit=world.units[OWN_UNIT])
    response = send(world, "other", "GET", path, api=path.startswith("/api/"))
    assert response.status_code == 200
    assert SECRET_TEXT not in response.get_data(as_text=True)


def test_another_users_attempt_to_revoke_a_token_leaves_it_working(world):
    send(world, "other", "POST", f"/account/tokens/{world.token_ids['own']}/revoke")
    assert send(world, "own", "GET", "/api/v1/me", api=True).status_code == 200
