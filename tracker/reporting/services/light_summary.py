"""The lights of every task in a round, kept in a summary table for the dashboard.

At a nation's size a round has 100,000 tasks: their lights cannot be computed live on each page view.
The scheduler recomputes an open round's lights every few minutes (so a new day, a calendar or a
settings change show within minutes) and every review or submission recomputes its own task's light at
once. A summary of another day is never used: the dashboard then computes live.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from tracker.db import write_lock_first
from tracker.reporting.models import (Light, ReportingRound, RoundAssignment, RoundLightSummary, RoundStatus,
                                      TaskLightSummary)
from tracker.reporting.services.lights import compute_lights
from tracker.reporting.services.rounds import get_settings
from tracker.tasks.models import Task
from tracker.time import load_calendar, local_date

#: tasks per light computation: bounds the IN lists the database sees and the memory a refresh holds
CHUNK = 2000
#: a scheduler that died mid-refresh gives the round up to another after this long
LEASE = timedelta(minutes=10)


def current_summary(session: Session, reporting_round: ReportingRound, *, today: date) -> RoundLightSummary | None:
    """The round's summary if it was computed for `today`, else None (compute live)."""
    summary = session.get(RoundLightSummary, reporting_round.id)
    return summary if summary is not None and summary.computed_on == today else None


def summarised_section_counts(session: Session, round_id: int) -> dict[int | None, dict[Light | None, int]]:
    """section id → light → number of tasks, from the summary, in one query."""
    counts: dict[int | None, dict[Light | None, int]] = defaultdict(dict)
    for section_id, light, number in session.exec(
            select(TaskLightSummary.section_id, TaskLightSummary.light, sa.func.count())
            .where(TaskLightSummary.round_id == round_id)
            .group_by(TaskLightSummary.section_id, TaskLightSummary.light)).all():
        counts[section_id][light] = number
    return counts


def claim_rounds_to_summarise(session: Session, *, now: datetime) -> list[int]:
    """Take the lease on every open round no other scheduler is refreshing; commits the claim."""
    open_ids = set(session.exec(select(ReportingRound.id).where(ReportingRound.status == RoundStatus.open)).all())
    known = set(session.exec(select(RoundLightSummary.round_id)).all())
    for round_id in sorted(open_ids - known):
        session.add(RoundLightSummary(round_id=round_id))
    try:
        session.commit()
    except IntegrityError:  # another scheduler added the same rows first
        session.rollback()
    claimed = []
    for round_id in sorted(open_ids):
        taken = session.execute(
            sa.update(RoundLightSummary)
            .where(RoundLightSummary.round_id == round_id,
                   sa.or_(RoundLightSummary.lease_until.is_(None), RoundLightSummary.lease_until < now))
            .values(lease_until=now + LEASE))
        if taken.rowcount == 1:
            claimed.append(round_id)
    session.commit()
    return claimed


def refresh_round_lights(session: Session, round_id: int, *, now: datetime) -> int:
    """Recompute every task's light in a round and replace its summary; commits. Returns the number of tasks.

    Lights are computed before the write; a task whose light a review refreshed meanwhile keeps that newer light.
    """
    reporting_round = session.get(ReportingRound, round_id)
    today = local_date(now)
    calendar, settings = load_calendar(session), get_settings(session)
    tasks = session.exec(select(Task.id, Task.section_id).where(Task.id.in_(
        select(RoundAssignment.task_id).where(RoundAssignment.round_id == round_id))).order_by(Task.id)).all()
    rows = []
    for start in range(0, len(tasks), CHUNK):
        chunk = tasks[start:start + CHUNK]
        lights = compute_lights(session, reporting_round, [task_id for task_id, _ in chunk], today=today,
                                calendar=calendar, settings=settings)
        rows += [{"round_id": round_id, "task_id": task_id, "section_id": section_id,
                  "light": lights[task_id].light, "computed_dt": now} for task_id, section_id in chunk]
    session.rollback()  # end the reading transaction: the write below begins with the write lock on SQLite
    write_lock_first(session)
    newer = set(session.exec(select(TaskLightSummary.task_id).where(
        TaskLightSummary.round_id == round_id, TaskLightSummary.computed_dt > now)).all())
    session.execute(sa.delete(TaskLightSummary).where(TaskLightSummary.round_id == round_id,
                                                      TaskLightSummary.computed_dt <= now))
    fresh = [row for row in rows if row["task_id"] not in newer]
    for start in range(0, len(fresh), CHUNK):
        session.execute(sa.insert(TaskLightSummary), fresh[start:start + CHUNK])
    session.execute(sa.update(RoundLightSummary).where(RoundLightSummary.round_id == round_id)
                    .values(computed_on=today, computed_dt=now, lease_until=None))
    session.commit()
    return len(rows)


def refresh_task_lights(session: Session, reporting_round: ReportingRound, task_ids: list[int], *,
                        now: datetime) -> None:
    """Recompute the lights of tasks a write just touched, if the round has a summary for today; no commit."""
    today = local_date(now)
    if current_summary(session, reporting_round, today=today) is None:
        return
    session.flush()
    lights = compute_lights(session, reporting_round, task_ids, today=today, calendar=load_calendar(session),
                            settings=get_settings(session))
    sections = dict(session.exec(select(Task.id, Task.section_id).where(Task.id.in_(task_ids))).all())
    session.execute(sa.delete(TaskLightSummary).where(TaskLightSummary.round_id == reporting_round.id,
                                                      TaskLightSummary.task_id.in_(task_ids)))
    session.execute(sa.insert(TaskLightSummary), [
        {"round_id": reporting_round.id, "task_id": task_id, "section_id": sections.get(task_id),
         "light": lights[task_id].light, "computed_dt": now} for task_id in task_ids])
