"""The dashboard's lights and report figures come from what the scheduler summarised today (a nation's round
has 100,000 tasks and 300,000 reports); reviews keep the lights exact between refreshes."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tracker.accounts.models import UserRole
from tracker.briefings.jobs import summarise_dashboards
from tracker.briefings.models import DashboardFigures
from tracker.briefings.services import dashboard as dashboards
from tracker.reporting.jobs import summarise_round_lights
from tracker.reporting.models import Light, TaskLightSummary, TaskProgress
from tracker.reporting.services import light_summary, reviews, rounds
from tracker.scheduler import build_scheduler
from tests.briefings.conftest import PUBLISHED_AT, TASKS


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr("tracker.time.now", lambda: PUBLISHED_AT)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def summarise(session, *, now=PUBLISHED_AT) -> None:
    for round_id in light_summary.claim_rounds_to_summarise(session, now=now):
        light_summary.refresh_round_lights(session, round_id, now=now)


def test_the_summary_gives_the_dashboard_the_same_lights_and_figures_as_live(client, auth, session, city, clock):
    auth.login(city.leader)
    live = text_of(client.get("/dashboard"))
    summarise(session)
    for round_id in dashboards.open_round_ids(session):
        dashboards.refresh_dashboard_figures(session, round_id, now=PUBLISHED_AT)
    assert session.exec(select(sa.func.count()).select_from(TaskLightSummary)).one() == len(city.tasks)
    summarised = text_of(client.get("/dashboard"))
    assert "报送统计截至 2025-10-20 09:00" in summarised and "报送统计截至" not in live
    assert summarised.replace(" 报送统计截至 2025-10-20 09:00（定时任务每 5 分钟更新一次；红黄绿灯随审核即时更新）", "") == live
    assert "绿灯 6 黄灯 3 红灯 3 未评定 0" in live


def test_the_dashboard_reads_the_summary_not_a_live_computation(client, auth, session, city, clock):
    summarise(session)
    session.execute(sa.update(TaskLightSummary).values(light=Light.red))
    session.commit()
    auth.login(city.leader)
    assert "绿灯 0 黄灯 0 红灯 12 未评定 0" in text_of(client.get("/dashboard"))


def test_a_summary_made_yesterday_is_not_used(client, auth, session, city, clock):
    summarise(session, now=PUBLISHED_AT - timedelta(days=1))
    session.execute(sa.update(TaskLightSummary).values(light=Light.red))
    session.commit()
    auth.login(city.leader)
    assert "绿灯 6 黄灯 3 红灯 3 未评定 0" in text_of(client.get("/dashboard"))


def test_changed_light_thresholds_send_the_dashboard_back_to_live_lights(client, auth, session, city, clock):
    summarise(session)
    session.execute(sa.update(TaskLightSummary).values(light=Light.red))
    session.commit()
    rounds.update_settings(session, cadence_months=3, path_tolerance_pct=10, red_after_working_days=5,
                           first_named_leads=True, actor=city.office, now=PUBLISHED_AT)
    auth.login(city.leader)
    assert "绿灯 6 黄灯 3 红灯 3 未评定 0" in text_of(client.get("/dashboard"))


def test_a_consolidated_report_refreshes_its_task_in_the_summary_at_once(client, auth, session, city, make_user,
                                                                        clock):
    summarise(session)
    task = city.tasks[-1]  # 四、（二）强化监督考核: green
    lead = make_user(UserRole.unit, unit=city.units[TASKS[len(city.tasks) - 1][3]])
    review = reviews.get_task_review(session, city.round.id, task.id, actor=lead)
    reviews.submit_task_report(session, review, progress=TaskProgress.lagging, progress_pct="20", narrative="进度滞后",
                               light_override=None, light_override_reason=None, actor=lead,
                               now=PUBLISHED_AT + timedelta(minutes=1))
    row = session.get(TaskLightSummary, (city.round.id, task.id))
    session.refresh(row)
    assert row.light is Light.yellow
    auth.login(city.leader)
    assert "四、组织实施 1 1 0 0" in text_of(client.get("/dashboard"))


def test_a_refresh_keeps_a_light_a_review_wrote_while_it_computed(session, city):
    summarise(session)
    task = city.tasks[0]
    session.execute(sa.update(TaskLightSummary).where(TaskLightSummary.task_id == task.id)
                    .values(light=Light.green, computed_dt=PUBLISHED_AT + timedelta(minutes=5)))
    session.commit()
    light_summary.refresh_round_lights(session, city.round.id, now=PUBLISHED_AT + timedelta(minutes=1))
    assert session.get(TaskLightSummary, (city.round.id, task.id)).light is Light.green
    assert session.exec(select(sa.func.count()).select_from(TaskLightSummary)).one() == len(city.tasks)


def test_two_schedulers_never_refresh_the_same_round_at_once(session, city):
    assert light_summary.claim_rounds_to_summarise(session, now=PUBLISHED_AT) == [city.round.id]
    assert light_summary.claim_rounds_to_summarise(session, now=PUBLISHED_AT) == []
    later = PUBLISHED_AT + light_summary.LEASE + timedelta(seconds=1)
    assert light_summary.claim_rounds_to_summarise(session, now=later) == [city.round.id]


def test_the_scheduler_summarises_the_lights_every_five_minutes(app):
    job = build_scheduler(app).get_job(summarise_round_lights.__name__)
    assert job is not None and job.trigger.interval == timedelta(minutes=5)


def test_the_dashboard_shows_the_scheduler_figures_of_today_not_of_yesterday(client, auth, session, city, clock):
    dashboards.refresh_dashboard_figures(session, city.round.id, now=PUBLISHED_AT)
    stored = session.get(DashboardFigures, city.round.id)
    assert stored.figures["overdue_total"] == 3 and stored.figures["reports"]["missing"] == 3
    session.execute(sa.update(DashboardFigures).values(figures={**stored.figures, "overdue_total": 99}))
    session.commit()
    auth.login(city.leader)
    assert "逾期未报事项（共 99 项" in text_of(client.get("/dashboard"))
    session.execute(sa.update(DashboardFigures).values(computed_on=(PUBLISHED_AT - timedelta(days=1)).date()))
    session.commit()
    assert "逾期未报事项（共 3 项）" in text_of(client.get("/dashboard"))


def test_the_scheduler_summarises_the_dashboard_figures_every_five_minutes(app):
    job = build_scheduler(app).get_job(summarise_dashboards.__name__)
    assert job is not None and job.trigger.interval == timedelta(minutes=5)
