"""Every reporting page makes the same number of queries for 20 and for 2,000 tasks."""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from tracker.accounts.models import UserRole
from tracker.reporting.models import TaskProgress
from tracker.reporting.services import reports, reviews
from tracker.tasks.models import Target
from tests.reporting.conftest import PDF, Built, assignment_id, at, build_round


def fill_last_task(session, built: Built, lead, lead_user, responsible, responsible_user, storage_dir) -> None:
    """Give the inspected task what its pages show: a submitted report with a figure and evidence, a consolidation."""
    task = built.tasks[-1]
    target_id = session.exec(select(Target.id).where(Target.task_id == task.id)).one()
    view = reports.get_assignment(session, assignment_id(session, built.round, task, responsible),
                                  actor=responsible_user)
    reports.add_attachment(session, view, filename="佐证.pdf", data=PDF, storage_dir=storage_dir, max_bytes=10 ** 6,
                           actor=responsible_user, now=at(2025, 10, 5))
    view = reports.get_assignment(session, view.assignment.id, actor=responsible_user)
    reports.save_report(session, view, progress_text="进展", values={target_id: Decimal("36")}, submit=True,
                        actor=responsible_user, now=at(2025, 10, 5))
    view = reports.get_assignment(session, assignment_id(session, built.round, task, lead), actor=lead_user)
    reports.save_report(session, view, progress_text="牵头单位进展", values={}, submit=False, actor=lead_user,
                        now=at(2025, 10, 5))
    review = reviews.get_task_review(session, built.round.id, task.id, actor=lead_user)
    reviews.submit_task_report(session, review, progress=TaskProgress.in_progress, progress_pct="60", narrative="汇总",
                               light_override=None, light_override_reason=None, actor=lead_user, now=at(2025, 10, 6))


PAGES = {
    "round list": lambda b, r: "/rounds",
    "round page by task": lambda b, r: f"/rounds/{b.round.id}",
    "round page by unit": lambda b, r: f"/rounds/{b.round.id}?view=units",
    "report form": lambda b, r: f"/assignments/{r}",
    "task review": lambda b, r: f"/rounds/{b.round.id}/tasks/{b.tasks[-1].id}",
    "todo": lambda b, r: "/todo",
    "task detail": lambda b, r: f"/tasks/{b.tasks[-1].id}",
}


def test_each_reporting_page_makes_the_same_number_of_queries_for_20_and_2000_tasks(
        client, auth, app, session, count_queries, make_plan, make_unit, make_task, make_user, clock):
    counts: dict[tuple[str, str], list[int]] = {}
    for size in (20, 2000):
        built = build_round(session, make_plan, make_unit, make_task, size)
        last = len(built.tasks) - 1
        lead_unit, responsible_unit = built.units[last % 3], built.units[3 + last % 3]
        lead_user = make_user(UserRole.unit, unit=lead_unit)
        responsible_user = make_user(UserRole.unit, unit=responsible_unit)
        fill_last_task(session, built, lead_unit, lead_user, responsible_unit, responsible_user,
                       app.config["STORAGE_DIR"])
        responsible_assignment = assignment_id(session, built.round, built.tasks[-1], responsible_unit)
        viewers = {"lead unit": lead_user, "responsible unit": responsible_user,
                   "office": make_user(UserRole.office), "coordinator": make_user(UserRole.coordinator)}
        for who, user in viewers.items():
            auth.login(user)
            for page, path in PAGES.items():
                with count_queries() as counted:
                    response = client.get(path(built, responsible_assignment))
                if response.status_code == 404 and who == "responsible unit" and page == "task review":
                    continue
                assert response.status_code == 200, (who, page, response.status_code)
                counts.setdefault((who, page), []).append(counted.count)
    for (who, page), (small, large) in counts.items():
        assert small == large, f"{page} as {who}: {small} queries for 20 tasks, {large} for 2000"
        assert small <= 25, f"{page} as {who}: {small} queries"
