"""Assemble a briefing from recorded data: the round's lights and reports, the evaluation, the indicators.

The result is plain JSON (strings, numbers, lists), so it can be frozen in `Briefing.snapshot` at publication and
rendered again, identically, years later. Every read here takes a fixed number of queries, whatever the plan's size.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from tracker.agencies.models import Unit
from tracker.briefings.models import Briefing, BriefingStatus
from tracker.evaluations.models import AreaResult, Evaluation
from tracker.reporting.models import (IndicatorValue, ReportingRound, ReportStatus, ReviewStatus, RoundAssignment,
                                      TaskProgress, TaskReport, UnitReport)
from tracker.reporting.services.lights import compute_lights
from tracker.reporting.services.rounds import get_settings
from tracker.tasks.models import Indicator, Plan, Role, Task
from tracker.time import load_calendar

#: the issuing office when the configuration names none
DEFAULT_ISSUER = "呼和浩特市人民政府办公室"
#: bump when the snapshot's shape changes, so old archives can still be read
CONTENT_FORMAT = 1
EXCERPT_CHARS = 60
LIGHT_KEYS = ("green", "yellow", "red", "none")
LIGHT_LABELS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "none": "未评定"}
SUBMITTED = (ReportStatus.submitted, ReportStatus.accepted)


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def paragraphs(text: str | None) -> list[str]:
    """Plain text as the office typed it: one paragraph per non-blank line, markup kept as text."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "……"


def decimal_text(value) -> str | None:
    """A Decimal as written ("1.20" stays "1.20"), never in exponent notation."""
    return None if value is None else format(Decimal(value), "f")


def percent_of_fraction(value) -> str | None:
    """0.0823 → "8.23" (cumulative and required reductions are stored as fractions, r = 1 − I_k / I_2020)."""
    if value is None:
        return None
    return format((Decimal(value) * 100).quantize(Decimal("0.01")), "f")


def task_number(task: Task) -> str:
    """二（一）: the section's numeral and the clause's label, as a briefing cites a task."""
    section = task.section.label.rstrip("、.．") if task.section is not None else ""
    return f"{section}{task.label}"


def evaluation_label(evaluation: Evaluation) -> str:
    version = f"（第{evaluation.version}版）" if evaluation.version > 1 else ""
    return f"{evaluation.year}年{evaluation.kind.label}{version}"


def default_title(reporting_round: ReportingRound) -> str:
    return f"关于{reporting_round.label}进展情况的通报"


# --- the whole briefing ----------------------------------------------------------------------------

def assemble_content(session: Session, briefing: Briefing, *, issuer: str = DEFAULT_ISSUER) -> dict:
    """Everything a briefing says, as of its issue date, from the round, the evaluation and the plan's data."""
    reporting_round = session.exec(select(ReportingRound).where(ReportingRound.id == briefing.round_id)
                                   .options(selectinload(ReportingRound.plan))).one()
    plan = reporting_round.plan
    evaluation = session.get(Evaluation, briefing.evaluation_id) if briefing.evaluation_id else None
    as_of = briefing.issue_date
    due_passed = as_of > reporting_round.due_date
    tasks = round_tasks(session, reporting_round)
    units = unit_counts(session, reporting_round, due_passed=due_passed)
    totals = {key: sum(u[key] for u in units) for key in ("total", "on_time", "late", "missing", "pending")}
    task_rows = _task_rows(session, reporting_round, plan, tasks, as_of)
    lights = {key: 0 for key in LIGHT_KEYS}
    for row in task_rows:
        lights[row["light"] or "none"] += 1
    return {
        "format": CONTENT_FORMAT,
        "issuer": issuer,
        "number_label": briefing.number_label if briefing.number else f"{briefing.year}年第　期",
        "title": briefing.title,
        "issue_date": as_of.isoformat(),
        "issue_date_text": chinese_date(as_of),
        "plan": {"title": plan.title, "doc_number": plan.doc_number or ""},
        "round": {"label": reporting_round.label, "period_start": chinese_date(reporting_round.period_start),
                  "period_end": chinese_date(reporting_round.period_end),
                  "due_date": chinese_date(reporting_round.due_date)},
        "opening": paragraphs(briefing.opening),
        "problems": paragraphs(briefing.problems),
        "next_steps": paragraphs(briefing.next_steps),
        "overview": {"task_count": len(task_rows), "lights": lights, "reports": totals, "due_passed": due_passed,
                     "on_time_pct": _rate(totals["on_time"], totals["total"] - totals["pending"])},
        "tasks": task_rows,
        "overdue": overdue_units(session, reporting_round, tasks) if due_passed else [],
        "late": [{"unit": u["unit"], "count": u["late"]} for u in sorted(units, key=lambda u: -u["late"])
                 if u["late"]],
        "units": units,
        "evaluation": _evaluation_section(session, evaluation) if evaluation else None,
        "indicators": indicator_rows(session, plan),
    }


def _rate(part: int, whole: int) -> str | None:
    return format((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1")), "f") if whole else None


def round_tasks(session: Session, reporting_round: ReportingRound) -> list[Task]:
    """The round's tasks in the plan's order, with their sections (two queries)."""
    in_round = select(RoundAssignment.task_id).where(RoundAssignment.round_id == reporting_round.id)
    return list(session.exec(select(Task).where(Task.id.in_(in_round)).order_by(Task.position, Task.id)
                             .options(selectinload(Task.section))).all())


def _task_rows(session: Session, reporting_round: ReportingRound, plan: Plan, tasks: list[Task], as_of: date) -> list:
    task_ids = [task.id for task in tasks]
    lights = compute_lights(session, reporting_round, task_ids, today=as_of, calendar=load_calendar(session),
                            settings=get_settings(session))
    leads: dict[int, list[str]] = {}
    for task_id, name in session.exec(
            select(RoundAssignment.task_id, Unit.name).join(Unit, Unit.id == RoundAssignment.unit_id)
            .where(RoundAssignment.round_id == reporting_round.id, RoundAssignment.role == Role.lead)
            .order_by(RoundAssignment.id)).all():
        leads.setdefault(task_id, []).append(name)
    narratives = latest_narratives(session, reporting_round, plan)
    rows = []
    for task in tasks:
        light = lights[task.id].light
        latest = narratives.get(task.id)
        rows.append({
            "number": task_number(task), "title": task.title, "lead_units": "、".join(leads.get(task.id, [])),
            "light": light.value if light else None, "light_label": light.label if light else "未评定",
            "light_reasons": lights[task.id].reasons,
            "progress_pct": decimal_text(latest["progress_pct"]) if latest else None,
            "progress_label": latest["progress"].label if latest else "",
            "excerpt": excerpt(latest["narrative"]) if latest else "",
            "narrative_round": (latest["round_label"] if latest and latest["round_id"] != reporting_round.id
                                else None),
        })
    return rows


def latest_narratives(session: Session, reporting_round: ReportingRound, plan: Plan) -> dict[int, dict]:
    """Each task's latest consolidated report up to this round (this round's first), returned ones left out."""
    order = (sa.case((TaskReport.round_id == reporting_round.id, 0), else_=1), ReportingRound.period_end.desc(),
             ReportingRound.id.desc())
    ranked = (select(TaskReport.task_id, TaskReport.narrative, TaskReport.progress, TaskReport.progress_pct,
                     TaskReport.round_id, ReportingRound.label.label("round_label"),
                     sa.func.row_number().over(partition_by=TaskReport.task_id, order_by=order).label("place"))
              .join(ReportingRound, ReportingRound.id == TaskReport.round_id)
              .where(ReportingRound.plan_id == plan.id, ReportingRound.period_end <= reporting_round.period_end,
                     TaskReport.review_status != ReviewStatus.returned)).subquery()
    rows = session.execute(select(ranked).where(ranked.c.place == 1)).mappings().all()
    return {row["task_id"]: _typed_narrative(row) for row in rows}


def _typed_narrative(row) -> dict:
    progress = row["progress"]
    return {**row, "progress": progress if isinstance(progress, TaskProgress) else TaskProgress(progress),
            "progress_pct": Decimal(str(row["progress_pct"]))}


def _outstanding():
    return sa.or_(UnitReport.id.is_(None), UnitReport.status.in_((ReportStatus.draft, ReportStatus.returned)))


def unit_counts(session: Session, reporting_round: ReportingRound, *, due_passed: bool) -> list[dict]:
    """Per unit: what it owes, submitted on time, late, and still missing (or pending, before the due date)."""
    submitted = UnitReport.status.in_(SUBMITTED)
    rows = session.exec(
        select(Unit.name, sa.func.count(RoundAssignment.id),
               sa.func.sum(sa.case((sa.and_(submitted, UnitReport.is_late.is_(False)), 1), else_=0)),
               sa.func.sum(sa.case((sa.and_(submitted, UnitReport.is_late.is_(True)), 1), else_=0)),
               sa.func.sum(sa.case((_outstanding(), 1), else_=0)))
        .select_from(RoundAssignment).join(Unit, Unit.id == RoundAssignment.unit_id)
        .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
        .where(RoundAssignment.round_id == reporting_round.id)
        .group_by(Unit.id, Unit.name, Unit.kind).order_by(Unit.kind, Unit.name)).all()
    units = []
    for name, total, on_time, late, outstanding in rows:
        total, on_time, late, outstanding = int(total), int(on_time or 0), int(late or 0), int(outstanding or 0)
        missing, pending = (outstanding, 0) if due_passed else (0, outstanding)
        units.append({"unit": name, "total": total, "on_time": on_time, "late": late, "missing": missing,
                      "pending": pending, "rate": _rate(on_time, total - pending)})
    return units


def overdue_units(session: Session, reporting_round: ReportingRound, tasks: list[Task]) -> list[dict]:
    """点名通报: each unit with reports still missing after the due date, and for which tasks, most first."""
    by_id = {task.id: task for task in tasks}
    owed: dict[str, list[str]] = {}
    for name, task_id in session.exec(
            select(Unit.name, RoundAssignment.task_id).join(Unit, Unit.id == RoundAssignment.unit_id)
            .join(Task, Task.id == RoundAssignment.task_id)
            .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
            .where(RoundAssignment.round_id == reporting_round.id, _outstanding())
            .order_by(Unit.kind, Unit.name, Task.position, Task.id)).all():
        task = by_id[task_id]
        owed.setdefault(name, []).append(f"{task_number(task)}{task.title}")
    ordered = sorted(owed.items(), key=lambda item: -len(item[1]))
    return [{"unit": name, "count": len(items), "tasks": items} for name, items in ordered]


def _evaluation_section(session: Session, evaluation: Evaluation) -> dict:
    return {"label": evaluation_label(evaluation), "status_label": evaluation.status.label,
            "areas": area_rows(session, evaluation)}


def area_rows(session: Session, evaluation: Evaluation) -> list[dict]:
    """The evaluation's areas by rank (unranked last), with their targets, reductions, scores and grades."""
    rows = session.exec(
        select(AreaResult, Unit.name).join(Unit, Unit.id == AreaResult.unit_id)
        .where(AreaResult.evaluation_id == evaluation.id)
        .order_by(sa.case((AreaResult.rank.is_(None), 1), else_=0), AreaResult.rank, AreaResult.position)).all()
    areas = []
    for result, name in rows:
        reached, required = result.cumulative_reduction, result.required_reduction
        areas.append({
            "unit": name, "rank": result.rank,
            "basic_target_pct": decimal_text(result.basic_target_pct),
            "incentive_target_pct": decimal_text(result.incentive_target_pct),
            "cumulative_pct": percent_of_fraction(reached), "required_pct": percent_of_fraction(required),
            "is_on_path": None if reached is None or required is None else reached >= required,
            "total": decimal_text(result.total), "grade": result.grade or "", "is_vetoed": result.is_vetoed,
            "missing_inputs": [str(item) for item in result.missing_inputs or []],
        })
    return areas


def indicator_rows(session: Session, plan: Plan) -> list[dict]:
    """附件 2: each indicator's baseline, target, latest yearly value and import flags (two queries)."""
    indicators = session.exec(select(Indicator).where(Indicator.plan_id == plan.id)
                              .order_by(Indicator.position, Indicator.id)).all()
    ranked = (select(IndicatorValue.indicator_id, IndicatorValue.year, IndicatorValue.value,
                     sa.func.row_number().over(partition_by=IndicatorValue.indicator_id,
                                               order_by=IndicatorValue.year.desc()).label("place"))
              .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
              .where(Indicator.plan_id == plan.id)).subquery()
    latest = {row.indicator_id: (row.year, Decimal(str(row.value)))
              for row in session.execute(select(ranked).where(ranked.c.place == 1)).all()}
    rows = []
    for indicator in indicators:
        year, value = latest.get(indicator.id, (None, None))
        rows.append({
            "sector": indicator.sector, "name": indicator.name, "unit": indicator.unit or "",
            "baseline_year": indicator.baseline_year, "baseline_value": decimal_text(indicator.baseline_value),
            "target_year": indicator.target_year, "target_value": decimal_text(indicator.target_value),
            "change_text": indicator.change_text or "", "latest_year": year, "latest_value": decimal_text(value),
            "share_pct": _share(indicator.baseline_value, indicator.target_value, value),
            "flags": list(indicator.flags or []),
        })
    return rows


def _share(baseline, target, latest) -> str | None:
    """How far the latest value has moved from the baseline towards the target, in percent."""
    if baseline is None or target is None or latest is None or target == baseline:
        return None
    share = (Decimal(latest) - Decimal(baseline)) / (Decimal(target) - Decimal(baseline)) * 100
    return format(share.quantize(Decimal("0.1")), "f")


def briefing_content(session: Session, briefing: Briefing, *, issuer: str = DEFAULT_ISSUER) -> dict:
    """What the briefing says: frozen in its snapshot once published, assembled from the data before."""
    if briefing.status is BriefingStatus.published and briefing.snapshot:
        return briefing.snapshot
    return assemble_content(session, briefing, issuer=issuer)
