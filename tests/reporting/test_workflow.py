"""The reporting cycle through the services: report, return (退办), resubmit, accept, consolidate, lights."""
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from tracker.errors import Conflict, Invalid, NotFound, PermissionDenied
from tracker.reporting.models import Light, ReportStatus, RoundAssignment, TaskProgress
from tracker.reporting.services import progress, reports, reviews
from tracker.reporting.services.lights import compute_lights
from tracker.reporting.services.rounds import get_settings
from tracker.time import WorkingCalendar
from tests.reporting.conftest import at


def assignment_of(session, world, unit):
    return session.exec(select(RoundAssignment).where(RoundAssignment.round_id == world.round.id,
                                                      RoundAssignment.unit_id == unit.id)).one()


def view(session, world, unit, actor):
    return reports.get_assignment(session, assignment_of(session, world, unit).id, actor=actor)


def light_of(session, world, today):
    return compute_lights(session, world.round, [world.task.id], today=today, calendar=WorkingCalendar(),
                          settings=get_settings(session))[world.task.id]


def test_opening_a_round_creates_one_assignment_per_task_and_unit(session, world):
    rows = session.exec(select(RoundAssignment).where(RoundAssignment.round_id == world.round.id)).all()
    assert sorted((r.unit_id, r.role.value) for r in rows) == sorted(
        [(world.lead.id, "lead"), (world.first.id, "responsible"), (world.second.id, "responsible")])


def test_a_report_submitted_after_its_due_date_in_beijing_is_late(session, world):
    on_time = reports.save_report(session, view(session, world, world.first, world.first_user), progress_text="已完成",
                                  values={}, submit=True, actor=world.first_user, now=at(2025, 10, 10, 23))
    late = reports.save_report(session, view(session, world, world.second, world.second_user), progress_text="已完成",
                               values={}, submit=True, actor=world.second_user, now=at(2025, 10, 11, 8))
    assert on_time.is_late is False and late.is_late is True


def test_a_unit_cannot_report_for_another_unit(session, world):
    with pytest.raises(PermissionDenied):
        reports.save_report(session, view(session, world, world.first, world.lead_user), progress_text="x",
                            values={}, submit=True, actor=world.lead_user, now=at(2025, 10, 1))


def test_a_responsible_unit_cannot_see_another_units_report(session, world):
    with pytest.raises(NotFound):
        view(session, world, world.second, world.first_user)


def test_the_lead_sees_every_report_of_its_task(session, world):
    assert view(session, world, world.second, world.lead_user).assignment.unit_id == world.second.id


def test_a_returned_report_goes_back_with_its_reason_and_can_be_resubmitted(session, world):
    v = view(session, world, world.first, world.first_user)
    report = reports.save_report(session, v, progress_text="进展", values={world.target.id: Decimal("30")},
                                 submit=True, actor=world.first_user, now=at(2025, 10, 5))
    review = reviews.get_task_review(session, world.round.id, world.task.id, actor=world.lead_user)
    with pytest.raises(Invalid):
        reviews.review_report(session, review, report.id, accept=False, reason=" ", actor=world.lead_user,
                              now=at(2025, 10, 6))
    reviews.review_report(session, review, report.id, accept=False, reason="请补充佐证材料",
                          actor=world.lead_user, now=at(2025, 10, 6))
    again = view(session, world, world.first, world.first_user)
    assert again.report.status is ReportStatus.returned and again.report.returned_reason == "请补充佐证材料"
    todo = progress.my_todo(session, actor=world.first_user, today=date(2025, 10, 6))
    assert todo.returned_count == 1
    resubmitted = reports.save_report(session, again, progress_text="已补充", values={world.target.id: Decimal("36")},
                                      submit=True, actor=world.first_user, now=at(2025, 10, 12))
    assert resubmitted.status is ReportStatus.submitted and resubmitted.is_late is False
    review = reviews.get_task_review(session, world.round.id, world.task.id, actor=world.lead_user)
    accepted = reviews.review_report(session, review, report.id, accept=True, reason=None, actor=world.lead_user,
                                     now=at(2025, 10, 13))
    assert accepted.status is ReportStatus.accepted


def test_a_submitted_report_cannot_be_edited_until_it_is_returned(session, world):
    v = view(session, world, world.first, world.first_user)
    reports.save_report(session, v, progress_text="进展", values={}, submit=True, actor=world.first_user,
                        now=at(2025, 10, 5))
    with pytest.raises(Conflict):
        reports.save_report(session, view(session, world, world.first, world.first_user), progress_text="改",
                            values={}, submit=False, actor=world.first_user, now=at(2025, 10, 6))


def test_only_the_lead_reviews_and_only_coordinators_approve_the_consolidated_report(session, world):
    review = reviews.get_task_review(session, world.round.id, world.task.id, actor=world.lead_user)
    with pytest.raises(NotFound):
        reviews.get_task_review(session, world.round.id, world.task.id, actor=world.first_user)
    task_report = reviews.submit_task_report(
        session, review, progress=TaskProgress.in_progress, progress_pct="80", narrative="总体顺利",
        light_override=None, light_override_reason=None, actor=world.lead_user, now=at(2025, 10, 9))
    review = reviews.get_task_review(session, world.round.id, world.task.id, actor=world.coordinator)
    with pytest.raises(PermissionDenied):
        reviews.review_task_report(session, review, accept=True, reason=None, actor=world.leader,
                                   now=at(2025, 10, 9))
    reviews.review_task_report(session, review, accept=True, reason=None, actor=world.coordinator,
                               now=at(2025, 10, 9))
    assert task_report.review_status.value == "accepted"


def test_the_light_follows_the_rules_and_an_override_shows_its_reason(session, world):
    assert light_of(session, world, date(2025, 10, 1)).light is None  # nothing reported, nothing due yet
    assert light_of(session, world, date(2025, 10, 13)).light is Light.yellow  # overdue
    assert light_of(session, world, date(2025, 10, 20)).light is Light.red  # past five working days
    for unit, user in ((world.first, world.first_user), (world.second, world.second_user),
                       (world.lead, world.lead_user)):
        reports.save_report(session, view(session, world, unit, user), progress_text="进展", values={},
                            submit=True, actor=user, now=at(2025, 10, 9))
    review = reviews.get_task_review(session, world.round.id, world.task.id, actor=world.lead_user)
    reviews.submit_task_report(session, review, progress=TaskProgress.in_progress, progress_pct="90",
                               narrative="顺利", light_override=None, light_override_reason=None,
                               actor=world.lead_user, now=at(2025, 10, 9))
    on_path = light_of(session, world, date(2025, 10, 20))  # 2025-09-30 is 95% of 2021–2025; 90 is within 10
    assert on_path.light is Light.green and on_path.expected_pct == Decimal("95.0")
    review = reviews.get_task_review(session, world.round.id, world.task.id, actor=world.lead_user)
    reviews.submit_task_report(session, review, progress=TaskProgress.in_progress, progress_pct="40",
                               narrative="受疫情影响", light_override=None, light_override_reason=None,
                               actor=world.lead_user, now=at(2025, 10, 9))
    behind = light_of(session, world, date(2025, 10, 20))
    assert behind.light is Light.yellow and "序时进度" in behind.reasons[0]
    review = reviews.get_task_review(session, world.round.id, world.task.id, actor=world.lead_user)
    with pytest.raises(Invalid):
        reviews.submit_task_report(session, review, progress=TaskProgress.in_progress, progress_pct="40",
                                   narrative="x", light_override=Light.green, light_override_reason="",
                                   actor=world.lead_user, now=at(2025, 10, 9))
    reviews.submit_task_report(session, review, progress=TaskProgress.in_progress, progress_pct="40",
                               narrative="x", light_override=Light.green, light_override_reason="项目已开工，进度将加快",
                               actor=world.lead_user, now=at(2025, 10, 9))
    overridden = light_of(session, world, date(2025, 10, 20))
    assert overridden.light is Light.green and overridden.computed is Light.yellow
    assert overridden.override_reason == "项目已开工，进度将加快"


def test_round_progress_counts_each_status_per_unit(session, world):
    reports.save_report(session, view(session, world, world.first, world.first_user), progress_text="进展",
                        values={}, submit=True, actor=world.first_user, now=at(2025, 10, 11))
    summary = progress.round_progress(session, world.round, today=date(2025, 10, 12))
    assert summary.overall.total == 3 and summary.overall.submitted == 1 and summary.overall.late == 1
    assert summary.overall.missing == 2 and summary.unit_total == 3 and summary.task_total == 1
