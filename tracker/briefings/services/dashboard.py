"""The leadership dashboard: a round's lights by section, what is overdue, who reports late, areas, indicators.

Read in a fixed number of queries whatever the plan's size: counts are aggregated in SQL, lists are limited.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import Session, func, select

from tracker.accounts.permissions import can_view_dashboard, require
from tracker.agencies.models import Unit
from tracker.briefings.services.assembly import (LIGHT_KEYS, area_rows, evaluation_label, indicator_rows,
                                                 round_tasks, task_number)
from tracker.briefings.models import DashboardFigures
from tracker.db import write_lock_first
from tracker.errors import NotFound
from tracker.evaluations.models import AreaResult, Evaluation, EvaluationStatus
from tracker.reporting.models import ReportingRound, ReportStatus, RoundAssignment, RoundStatus, UnitReport
from tracker.reporting.services.light_summary import current_summary, summarised_section_counts
from tracker.reporting.services.lights import compute_lights
from tracker.reporting.services.rounds import get_settings
from tracker.tasks.models import Section, Task
from tracker.time import load_calendar, local_date

OVERDUE_LIMIT = 20
LATE_UNITS_LIMIT = 10
ROUND_CHOICES = 20
NO_SECTION = "其他"


@dataclass
class SectionLights:
    name: str
    counts: dict[str, int] = field(default_factory=lambda: {key: 0 for key in LIGHT_KEYS})

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_chart_row(self) -> dict:
        return {"name": self.name, **self.counts}


@dataclass
class Dashboard:
    round: ReportingRound | None
    rounds: list[ReportingRound]
    overall: dict[str, int]
    sections: list[SectionLights]
    overdue: list[tuple[str, str, str]]        #: (unit, task number, task title)
    overdue_total: int
    late_units: list[dict]                      #: {"unit", "late", "missing"}
    evaluation: Evaluation | None
    evaluation_label: str | None
    areas: list[dict]
    indicators: list[dict]
    reports: dict[str, int]
    #: when the scheduler computed the report figures; None: computed live for this page
    figures_dt: datetime | None = None


@dataclass
class RoundFigures:
    """The dashboard's rollups over a round's reports."""

    reports: dict[str, int]
    overdue: list[tuple[str, str, str]]
    overdue_total: int
    late_units: list[dict]
    computed_dt: datetime | None = None

    def as_json(self) -> dict:
        return {"reports": self.reports, "overdue": [list(row) for row in self.overdue],
                "overdue_total": self.overdue_total, "late_units": self.late_units}

    @classmethod
    def from_json(cls, figures: dict, computed_dt: datetime) -> "RoundFigures":
        return cls(reports=figures["reports"], overdue=[tuple(row) for row in figures["overdue"]],
                   overdue_total=figures["overdue_total"], late_units=figures["late_units"], computed_dt=computed_dt)


def dashboard_round(session: Session, *, actor, round_id: int | None = None) -> tuple[ReportingRound | None, list]:
    """The round asked for, else the latest open round, else the latest round; and the rounds to choose from.

    :raises PermissionDenied: unless `actor` may view the dashboard
    :raises NotFound: if `round_id` names no round
    """
    require(can_view_dashboard(actor), "领导看板只对市领导、市政府办公室和统筹单位开放")
    rounds = list(session.exec(
        select(ReportingRound).options(selectinload(ReportingRound.plan))
        .order_by(sa.case((ReportingRound.status == RoundStatus.open, 0), else_=1),
                  ReportingRound.period_end.desc(), ReportingRound.id.desc()).limit(ROUND_CHOICES)).all())
    if round_id is None:
        return (rounds[0] if rounds else None), rounds
    chosen = next((r for r in rounds if r.id == round_id), None)
    if chosen is None:
        chosen = session.exec(select(ReportingRound).where(ReportingRound.id == round_id)
                              .options(selectinload(ReportingRound.plan))).first()
        if chosen is None:
            raise NotFound("没有这次调度")
        rounds.append(chosen)
    return chosen, rounds


def section_lights(session: Session, reporting_round: ReportingRound, *, today: date) -> list[SectionLights]:
    """Tasks by light in each section of the plan, in the plan's order: from the round's summary of today's
    lights when the scheduler has made one (a nation's round is too big to compute live), else live."""
    if current_summary(session, reporting_round, today=today) is not None:
        return _summarised_section_lights(session, reporting_round)
    tasks = round_tasks(session, reporting_round)
    lights = compute_lights(session, reporting_round, [t.id for t in tasks], today=today,
                            calendar=load_calendar(session), settings=get_settings(session))
    sections: dict[object, SectionLights] = {}
    for task in tasks:
        key = task.section_id
        if key not in sections:
            sections[key] = SectionLights(_section_name(task.section))
        light = lights[task.id].light
        sections[key].counts[light.value if light else "none"] += 1
    return list(sections.values())


def _summarised_section_lights(session: Session, reporting_round: ReportingRound) -> list[SectionLights]:
    counts = summarised_section_counts(session, reporting_round.id)
    named = {section.id: section for section in session.exec(
        select(Section).where(Section.id.in_([key for key in counts if key is not None] or [-1])))}
    ordered = sorted(counts, key=lambda key: (key is None, named[key].number if key in named else 0))
    sections = []
    for key in ordered:
        row = SectionLights(_section_name(named.get(key)))
        for light, number in counts[key].items():
            row.counts[light.value if light else "none"] += number
        sections.append(row)
    return sections


def _section_name(section: Section | None) -> str:
    return f"{section.label}{section.title}" if section is not None else NO_SECTION


def _outstanding():
    return sa.or_(UnitReport.id.is_(None), UnitReport.status.in_((ReportStatus.draft, ReportStatus.returned)))


def overdue_items(session: Session, reporting_round: ReportingRound, *, today: date,
                  limit: int = OVERDUE_LIMIT) -> tuple[list[tuple[str, str, str]], int]:
    """Reports still missing after the due date: the first `limit` (unit, task number, title), and how many."""
    if today <= reporting_round.due_date:
        return [], 0
    base = (select(Unit.name, Task).select_from(RoundAssignment)
            .join(Unit, Unit.id == RoundAssignment.unit_id).join(Task, Task.id == RoundAssignment.task_id)
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .where(RoundAssignment.round_id == reporting_round.id, _outstanding()))
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = session.exec(base.order_by(Unit.kind, Unit.name, Task.position, Task.id).limit(limit)
                        .options(selectinload(Task.section))).all()
    return [(name, task_number(task), task.title) for name, task in rows], total


def late_units(session: Session, reporting_round: ReportingRound, *, today: date,
               limit: int = LATE_UNITS_LIMIT) -> list[dict]:
    """Units with the most late reports over the plan's rounds, with what they still owe in this round."""
    is_late = sa.case((UnitReport.is_late.is_(True), 1), else_=0)
    due_passed = today > reporting_round.due_date
    missing_now = (sa.case((sa.and_(RoundAssignment.round_id == reporting_round.id, _outstanding()), 1), else_=0)
                   if due_passed else sa.literal(0))
    late_count, missing_count = func.sum(is_late), func.sum(missing_now)
    rows = session.exec(
        select(Unit.name, late_count, missing_count).select_from(RoundAssignment)
        .join(ReportingRound, ReportingRound.id == RoundAssignment.round_id)
        .join(Unit, Unit.id == RoundAssignment.unit_id)
        .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
        .where(ReportingRound.plan_id == reporting_round.plan_id)
        .group_by(Unit.id, Unit.name)
        .having(late_count + missing_count > 0)
        .order_by((late_count + missing_count).desc(), late_count.desc(), Unit.name).limit(limit)).all()
    return [{"unit": name, "late": int(late or 0), "missing": int(missing or 0)} for name, late, missing in rows]


def report_totals(session: Session, reporting_round: ReportingRound, *, today: date) -> dict[str, int]:
    submitted = UnitReport.status.in_((ReportStatus.submitted, ReportStatus.accepted))
    total, on_time, late, outstanding = session.exec(
        select(func.count(RoundAssignment.id),
               func.sum(sa.case((sa.and_(submitted, UnitReport.is_late.is_(False)), 1), else_=0)),
               func.sum(sa.case((sa.and_(submitted, UnitReport.is_late.is_(True)), 1), else_=0)),
               func.sum(sa.case((_outstanding(), 1), else_=0)))
        .select_from(RoundAssignment).outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
        .where(RoundAssignment.round_id == reporting_round.id)).one()
    outstanding = int(outstanding or 0)
    due_passed = today > reporting_round.due_date
    return {"total": int(total or 0), "on_time": int(on_time or 0), "late": int(late or 0),
            "missing": outstanding if due_passed else 0, "pending": 0 if due_passed else outstanding}


def ranking_evaluation(session: Session, plan_id: int) -> Evaluation | None:
    """The plan's latest published evaluation with area results, else its latest computed one."""
    with_areas = select(AreaResult.evaluation_id)
    return session.exec(
        select(Evaluation).where(Evaluation.plan_id == plan_id, Evaluation.id.in_(with_areas),
                                 Evaluation.status.in_((EvaluationStatus.published, EvaluationStatus.computed)))
        .order_by(sa.case((Evaluation.status == EvaluationStatus.published, 0), else_=1), Evaluation.year.desc(),
                  Evaluation.version.desc(), Evaluation.id.desc()).limit(1)).first()


def leadership_dashboard(session: Session, *, actor, today: date, round_id: int | None = None) -> Dashboard:
    """Everything the dashboard shows, in a fixed number of queries.

    :raises PermissionDenied: unless `actor` is a leader, the office or a coordinator
    :raises NotFound: if `round_id` names no round
    """
    chosen, rounds = dashboard_round(session, actor=actor, round_id=round_id)
    if chosen is None:
        return Dashboard(round=None, rounds=[], overall={k: 0 for k in LIGHT_KEYS}, sections=[], overdue=[],
                         overdue_total=0, late_units=[], evaluation=None, evaluation_label=None, areas=[],
                         indicators=[], reports={})
    sections = section_lights(session, chosen, today=today)
    overall = {key: sum(s.counts[key] for s in sections) for key in LIGHT_KEYS}
    figures = round_figures(session, chosen, today=today)
    evaluation = ranking_evaluation(session, chosen.plan_id)
    return Dashboard(
        round=chosen, rounds=rounds, overall=overall, sections=sections, overdue=figures.overdue,
        overdue_total=figures.overdue_total, late_units=figures.late_units,
        evaluation=evaluation, evaluation_label=evaluation_label(evaluation) if evaluation else None,
        areas=area_rows(session, evaluation) if evaluation else [],
        indicators=indicator_rows(session, chosen.plan), reports=figures.reports, figures_dt=figures.computed_dt)


def round_figures(session: Session, reporting_round: ReportingRound, *, today: date) -> RoundFigures:
    """The round's report figures as the scheduler computed them today, else computed live."""
    stored = session.get(DashboardFigures, reporting_round.id)
    if stored is not None and stored.computed_on == today:
        return RoundFigures.from_json(stored.figures, stored.computed_dt)
    return _live_figures(session, reporting_round, today=today)


def _live_figures(session: Session, reporting_round: ReportingRound, *, today: date) -> RoundFigures:
    overdue, overdue_total = overdue_items(session, reporting_round, today=today)
    return RoundFigures(reports=report_totals(session, reporting_round, today=today), overdue=overdue,
                        overdue_total=overdue_total, late_units=late_units(session, reporting_round, today=today))


def refresh_dashboard_figures(session: Session, round_id: int, *, now: datetime) -> None:
    """Compute a round's figures and keep them for today's dashboard; commits. Another scheduler storing the
    same round at the same moment wins, and this one gives way."""
    reporting_round = session.get(ReportingRound, round_id)
    today = local_date(now)
    figures = _live_figures(session, reporting_round, today=today).as_json()
    session.rollback()  # end the reading transaction: the write takes the write lock first on SQLite
    write_lock_first(session)
    session.execute(sa.delete(DashboardFigures).where(DashboardFigures.round_id == round_id))
    session.execute(sa.insert(DashboardFigures), [{"round_id": round_id, "computed_on": today, "computed_dt": now,
                                                    "figures": figures}])
    try:
        session.commit()
    except IntegrityError:
        session.rollback()


def open_round_ids(session: Session) -> list[int]:
    return list(session.exec(select(ReportingRound.id).where(ReportingRound.status == RoundStatus.open)
                             .order_by(ReportingRound.id)).all())
