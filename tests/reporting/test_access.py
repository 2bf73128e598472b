"""Scope and trust on the reporting pages: IDOR answers 404, injected fields are ignored, free text stays text."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlmodel import func, select

from tracker.accounts.models import UserRole
from tracker.audit.models import AuditEvent
from tracker.reporting.models import (Attachment, ReportingRound, ReportStatus, ReviewStatus, RoundStatus, TaskReport,
                                      UnitReport)
from tracker.reporting.services import reports, rounds
from tests.reporting.conftest import PDF, assignment_id, at


def submitted_report_with_evidence(session, world, unit, user, text="本单位的进展") -> tuple[UnitReport, Attachment]:
    view = reports.get_assignment(session, assignment_id(session, world.round, world.task, unit), actor=user)
    report = reports.save_report(session, view, progress_text=text, values={}, submit=False, actor=user,
                                 now=at(2025, 10, 5))
    view = reports.get_assignment(session, view.assignment.id, actor=user)
    attachment = reports.add_attachment(session, view, filename="佐证.pdf", data=PDF, storage_dir=world.storage,
                                        max_bytes=1024 * 1024, actor=user, now=at(2025, 10, 5))
    view = reports.get_assignment(session, view.assignment.id, actor=user)
    reports.save_report(session, view, progress_text=text, values={}, submit=True, actor=user, now=at(2025, 10, 5))
    return report, attachment


@pytest.fixture
def storage_world(world, app):
    world.storage = app.config["STORAGE_DIR"]
    return world


def state_of(session, report: UnitReport):
    session.expire_all()
    fresh = session.get(UnitReport, report.id)
    return (fresh.status, fresh.progress_text, fresh.returned_reason,
            session.exec(select(func.count()).select_from(Attachment)).one(),
            session.exec(select(func.count()).select_from(TaskReport)).one(),
            session.exec(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action != "permission.denied")).one())


def test_another_units_assignment_report_attachment_and_review_answer_404_and_change_nothing(
        client, auth, session, storage_world, make_user, make_unit, clock):
    world = storage_world
    report, attachment = submitted_report_with_evidence(session, world, world.second, world.second_user)
    theirs = assignment_id(session, world.round, world.task, world.second)
    review = f"/rounds/{world.round.id}/tasks/{world.task.id}"
    before = state_of(session, report)
    outsider = make_user(UserRole.unit, unit=make_unit("市无关局"))
    for intruder in (world.first_user, outsider):
        auth.login(intruder)
        requests = [
            ("get", f"/assignments/{theirs}", {}),
            ("post", f"/assignments/{theirs}", {"progress_text": "篡改", "submit_report": "1"}),
            ("post", f"/assignments/{theirs}/attachments", {"file": (io.BytesIO(PDF), "x.pdf")}),
            ("post", f"/assignments/{theirs}/attachments/{attachment.id}/remove", {}),
            ("get", f"/attachments/{attachment.id}", {}),
            ("get", review, {}),
            ("post", f"{review}/reports/{report.id}/review", {"decision": "return", "reason": "篡改"}),
            ("post", f"{review}/consolidate", {"progress": "completed", "progress_pct": "100", "narrative": "篡改"}),
            ("post", f"{review}/task-report/review", {"decision": "accept"}),
        ]
        for method, path, data in requests:
            response = getattr(client, method)(path, data=data, content_type="multipart/form-data")
            assert response.status_code == 404, (intruder.username, method, path, response.status_code)
            assert "篡改" not in response.get_data(as_text=True) and "本单位的进展" not in response.get_data(as_text=True)
    assert state_of(session, report) == before
    assert (world.storage / "attachments" / attachment.stored_name).read_bytes() == PDF


def test_an_attachment_of_another_task_cannot_be_removed_through_ones_own_assignment(
        client, auth, session, storage_world, clock):
    world = storage_world
    _, theirs = submitted_report_with_evidence(session, world, world.second, world.second_user)
    auth.login(world.first_user)
    mine = assignment_id(session, world.round, world.task, world.first)
    client.post(f"/assignments/{mine}", data={"progress_text": "草稿", "save_draft": "1"})
    response = client.post(f"/assignments/{mine}/attachments/{theirs.id}/remove")
    assert response.status_code == 404 and session.get(Attachment, theirs.id) is not None


def test_a_report_of_another_task_cannot_be_reviewed_through_a_task_one_leads(
        client, auth, session, storage_world, make_task, clock):
    world = storage_world
    report, _ = submitted_report_with_evidence(session, world, world.second, world.second_user)
    other = make_task(world.plan, lead=world.second, responsible=[world.lead], number=2, title="乙工程")
    second_round = rounds.open_round(session, world.plan, label="2025年第四季度调度", period_start=date(2025, 10, 1),
                                     period_end=date(2025, 12, 31), due_date=date(2026, 1, 10), actor=world.office,
                                     now=at(2025, 10, 1))
    auth.login(world.second_user)  # leads 乙工程 in the new round; the report is 甲工程's
    response = client.post(f"/rounds/{second_round.id}/tasks/{other.id}/reports/{report.id}/review",
                           data={"decision": "accept"})
    assert response.status_code == 404 and session.get(UnitReport, report.id).status is ReportStatus.submitted
    assert client.get(f"/rounds/{world.round.id}/tasks/{other.id}").status_code == 404


#: fields a form must never take from the request
INJECTED = {"unit_id": "999", "status": "accepted", "role": "lead", "light": "green", "is_late": "1",
            "submitted_dt": "2020-01-01T00:00:00", "review_status": "accepted", "report_id": "999",
            "round_id": "999", "task_id": "999", "assignment_id": "999", "reviewed_by_id": "1",
            "light_override": "", "stored_name": "../../evil", "original_name": "evil.exe",
            "content_type": "text/html", "id": "999"}


def test_fields_injected_into_the_report_form_are_ignored(client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    auth.login(world.first_user)
    response = client.post(f"/assignments/{mine}", data={**INJECTED, "progress_text": "进展", "save_draft": "1",
                                                          "value_999999": "5"})
    assert response.status_code == 302
    report = session.exec(select(UnitReport)).one()
    assert (report.unit_id, report.status, report.is_late, report.submitted_dt) == (
        world.first.id, ReportStatus.draft, False, None)
    assert report.assignment_id == mine and report.round_id == world.round.id


def test_fields_injected_into_the_upload_form_are_ignored(client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    auth.login(world.first_user)
    response = client.post(f"/assignments/{mine}/attachments",
                           data={**INJECTED, "file": (io.BytesIO(PDF), "报告.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    attachment = session.exec(select(Attachment)).one()
    assert attachment.original_name == "报告.pdf" and attachment.content_type == "application/pdf"
    assert ".." not in attachment.stored_name


def test_fields_injected_into_the_review_forms_are_ignored(client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    review = f"/rounds/{world.round.id}/tasks/{world.task.id}"
    auth.login(world.first_user)
    client.post(f"/assignments/{mine}", data={"progress_text": "进展", "submit_report": "1"})
    report = session.exec(select(UnitReport)).one()
    auth.login(world.lead_user)
    client.post(f"{review}/reports/{report.id}/review", data={**INJECTED, "decision": "return", "reason": "补充"})
    assert report.status is ReportStatus.returned and report.unit_id == world.first.id
    client.post(f"{review}/consolidate", data={**INJECTED, "progress": "in_progress", "progress_pct": "50",
                                                "narrative": "推进中"})
    task_report = session.exec(select(TaskReport)).one()
    assert (task_report.review_status, task_report.light_override, task_report.unit_id) == (
        ReviewStatus.submitted, None, world.lead.id)
    auth.login(world.coordinator)
    client.post(f"{review}/task-report/review", data={**INJECTED, "decision": "return", "reason": "再补充"})
    assert task_report.review_status is ReviewStatus.returned and task_report.reviewed_by_id == world.coordinator.id


def test_fields_injected_into_the_round_and_settings_forms_are_ignored(client, auth, session, world, clock):
    auth.login(world.office)
    response = client.post("/rounds/new", data={**INJECTED, "plan": world.plan.slug, "label": "2025年第四季度调度",
                                                "period_start": "2025-10-01", "period_end": "2025-12-31",
                                                "due_date": "2026-01-10", "opened_by_id": "1"})
    assert response.status_code == 302
    opened = session.exec(select(ReportingRound).where(ReportingRound.label == "2025年第四季度调度")).one()
    assert opened.status is RoundStatus.open and opened.plan_id == world.plan.id and opened.closed_dt is None
    response = client.post("/settings", data={**INJECTED, "cadence_months": "6", "path_tolerance_pct": "5",
                                              "red_after_working_days": "3", "updated_by_id": "1"})
    assert response.status_code == 302
    settings = rounds.get_settings(session)
    assert (settings.cadence_months, settings.path_tolerance_pct, settings.updated_by_id) == (6, 5, world.office.id)


EVIL = ("<script>alert(1)</script> <img src=x onerror=alert(1)> ＜script＞alert(2)＜/script＞ "
        "零\u200b宽\u200d字\u2060符")


def assert_shown_as_text(response):
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "＜script＞alert(2)＜/script＞" in page and "零\u200b宽\u200d字\u2060符" in page


def test_chinese_free_text_with_markup_is_shown_as_text_on_report_review_round_and_task_pages(
        client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    world.task.title = EVIL
    session.flush()
    evil_round = rounds.open_round(session, world.plan, label=EVIL[:80], period_start=date(2025, 10, 1),
                                   period_end=date(2025, 12, 31), due_date=date(2026, 1, 10), actor=world.office,
                                   now=at(2025, 10, 1))
    auth.login(world.first_user)
    client.post(f"/assignments/{mine}", data={"progress_text": EVIL, "submit_report": "1"})
    assert_shown_as_text(client.get(f"/assignments/{mine}"))
    report = session.exec(select(UnitReport)).one()
    auth.login(world.lead_user)
    client.post(f"/rounds/{world.round.id}/tasks/{world.task.id}/reports/{report.id}/review",
                data={"decision": "return", "reason": EVIL})
    client.post(f"/rounds/{world.round.id}/tasks/{world.task.id}/consolidate", data={
        "progress": "lagging", "progress_pct": "10", "narrative": EVIL, "light_override": "red",
        "light_override_reason": EVIL})
    assert_shown_as_text(client.get(f"/rounds/{world.round.id}/tasks/{world.task.id}"))
    assert_shown_as_text(client.get(f"/tasks/{world.task.id}"))
    auth.login(world.first_user)
    assert_shown_as_text(client.get(f"/assignments/{mine}"))
    assert_shown_as_text(client.get("/todo"))
    auth.login(world.office)
    assert_shown_as_text(client.get(f"/rounds/{world.round.id}"))
    for path in ("/rounds", f"/rounds/{evil_round.id}"):  # the label is EVIL's first 80 characters
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt; ＜script＞" in page


def test_reporting_pages_carry_no_inline_script_style_or_handler(client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    pages = [(world.first_user, [f"/assignments/{mine}", "/rounds", f"/rounds/{world.round.id}",
                                 f"/tasks/{world.task.id}"]),
             (world.lead_user, [f"/rounds/{world.round.id}/tasks/{world.task.id}"]),
             (world.office, ["/rounds/new", "/settings", f"/rounds/{world.round.id}?view=units"])]
    for user, paths in pages:
        auth.login(user)
        for path in paths:
            page = client.get(path).get_data(as_text=True)
            assert " style=" not in page and "<style" not in page, path
            assert not re.search(r"<[^>]+\son[a-z]+\s*=", page), path
            assert not re.search(r"<script(?![^>]*\bsrc=)", page), path


def test_reporting_posts_without_or_with_a_wrong_csrf_token_answer_400_and_change_nothing(
        client, auth, session, app, world, clock):
    app.config["WTF_CSRF_ENABLED"] = True
    mine = assignment_id(session, world.round, world.task, world.first)
    auth.login(world.first_user)
    page = client.get(f"/assignments/{mine}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    posts = [(f"/assignments/{mine}", lambda: {"progress_text": "进展", "submit_report": "1"}),
             (f"/assignments/{mine}/attachments", lambda: {"file": (io.BytesIO(PDF), "a.pdf")})]
    for path, data in posts:
        for wrong in ({}, {"csrf_token": "forged"}):
            response = client.post(path, data={**data(), **wrong}, content_type="multipart/form-data")
            assert response.status_code == 400, (path, wrong)
    assert session.exec(select(UnitReport)).first() is None
    sent = client.post(f"/assignments/{mine}", data={"progress_text": "进展", "submit_report": "1", "csrf_token": token})
    assert sent.status_code == 302 and session.exec(select(UnitReport)).one().status is ReportStatus.submitted
    auth.login(world.office)
    assert client.post(f"/rounds/{world.round.id}/close").status_code == 400
    assert world.round.status is RoundStatus.open
