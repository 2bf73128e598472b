"""Reading evaluations: the list, one version, and its report — from the snapshot once published.

The report of a version is one JSON-ready dict (every figure a string) that the pages, the exports and the
snapshot share. For a published version it is the snapshot frozen at publication; for a computed one it is
built from the stored result rows (written once at computation, never updated) — never from live data.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import selectinload
from sqlmodel import Session, func, select

from tracker.accounts.permissions import can_view_evaluation, require_visible, sees_everything
from tracker.agencies.models import Unit
from tracker.errors import NotFound
from tracker.evaluations.models import (AreaResult, Evaluation, EvaluationKind, EvaluationStatus, RuleSet,
                                        TaskResult)
from tracker.evaluations.services.rules import TASK_NOT_EVALUATED, rule_set_dict
from tracker.tasks.models import Plan, Section, Task, TaskLevel


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


# --- lists ----------------------------------------------------------------------------------------

@dataclass
class EvaluationRow:
    evaluation: Evaluation
    plan: Plan
    rule_version: int | None


def list_evaluations(session: Session, *, actor, page: int = 1, size: int = 50) -> tuple[list[EvaluationRow], int]:
    """Every version the actor may read (everyone: published; office, coordinators, leaders: all), newest first."""
    query = select(Evaluation, Plan, RuleSet.version).join(Plan, Plan.id == Evaluation.plan_id) \
        .outerjoin(RuleSet, RuleSet.id == Evaluation.rule_set_id)
    if not sees_everything(actor):
        query = query.where(Evaluation.status == EvaluationStatus.published)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Plan.id.desc(), Evaluation.year.desc(), Evaluation.kind,
                                       Evaluation.version.desc()).offset((page - 1) * size).limit(size)).all()
    return [EvaluationRow(evaluation=e, plan=p, rule_version=v) for e, p, v in rows], total


def get_evaluation(session: Session, evaluation_id: int, *, actor) -> Evaluation:
    """One version, with its rule set.

    :raises NotFound: if there is none, or it is unpublished and the actor may read only published results
    """
    evaluation = session.exec(select(Evaluation).where(Evaluation.id == evaluation_id)
                              .options(selectinload(Evaluation.rule_set))).first()
    if evaluation is None:
        raise NotFound("没有这个评价")
    require_visible(can_view_evaluation(actor, evaluation.status is EvaluationStatus.published))
    return evaluation


def versions_of(session: Session, evaluation: Evaluation, *, actor) -> list[tuple[Evaluation, int | None]]:
    """Every version of the same (plan, kind, year) the actor may read, with its rule version."""
    query = (select(Evaluation, RuleSet.version).outerjoin(RuleSet, RuleSet.id == Evaluation.rule_set_id)
             .where(Evaluation.plan_id == evaluation.plan_id, Evaluation.kind == evaluation.kind,
                    Evaluation.year == evaluation.year))
    if not sees_everything(actor):
        query = query.where(Evaluation.status == EvaluationStatus.published)
    return [(e, v) for e, v in session.exec(query.order_by(Evaluation.version.desc())).all()]


def latest_computed(session: Session, plan: Plan, kind: EvaluationKind, year: int) -> Evaluation | None:
    """The highest version that has results (computed or published)."""
    return session.exec(select(Evaluation).where(
        Evaluation.plan_id == plan.id, Evaluation.kind == kind, Evaluation.year == year,
        Evaluation.status.in_((EvaluationStatus.computed, EvaluationStatus.published)))
        .order_by(Evaluation.version.desc()).limit(1)).first()


# --- the report -----------------------------------------------------------------------------------

def evaluation_report(session: Session, evaluation: Evaluation) -> dict:
    """The version's report: its snapshot once published, else built from its stored result rows."""
    if evaluation.status is EvaluationStatus.published and evaluation.snapshot:
        return evaluation.snapshot
    return build_report(session, evaluation)


def build_report(session: Session, evaluation: Evaluation) -> dict:
    """Assemble the report from the stored rows in four queries, whatever the number of areas and tasks."""
    plan = session.get(Plan, evaluation.plan_id)
    rule_set = session.get(RuleSet, evaluation.rule_set_id) if evaluation.rule_set_id else None
    area_rows = session.exec(select(AreaResult, Unit.name).join(Unit, Unit.id == AreaResult.unit_id)
                             .where(AreaResult.evaluation_id == evaluation.id)).all()
    task_rows = session.exec(
        select(TaskResult, Task.section_number, Task.number, Task.label, Task.level, Task.title, Task.position,
               Section.label, Unit.name)
        .join(Task, Task.id == TaskResult.task_id)
        .outerjoin(Section, Section.id == Task.section_id)
        .outerjoin(Unit, Unit.id == TaskResult.lead_unit_id)
        .where(TaskResult.evaluation_id == evaluation.id)
        .order_by(Task.position, Task.id)).all()
    areas = [_area_entry(result, name) for result, name in area_rows]
    areas.sort(key=lambda a: (a["rank"] is None, a["rank"] or 0, a["position"]))
    tasks = []
    for result, section_number, number, label, level, title, _, section_label, lead_name in task_rows:
        prefix = section_label if section_label and level is not TaskLevel.section else ""
        tasks.append({"task_id": result.task_id, "section_number": section_number, "number": number,
                      "display_number": f"{prefix}{label}", "title": title, "lead_unit_id": result.lead_unit_id,
                      "lead_unit": lead_name, "on_time_rate": _text(result.on_time_rate),
                      "targets_met_rate": _text(result.targets_met_rate), "status_score": _text(result.status_score),
                      "score": _text(result.score), "grade": result.grade, "explanation": result.explanation})
    period = next((step for area in areas for step in area["explanation"] if step.get("key") == "inputs"), None)
    return {
        "evaluation_id": evaluation.id,
        "plan": {"slug": plan.slug, "title": plan.title, "start_year": plan.start_year, "end_year": plan.end_year},
        "kind": evaluation.kind.value, "kind_label": evaluation.kind.label, "year": evaluation.year,
        "version": evaluation.version, "status": evaluation.status.value,
        "base_year": plan.start_year - 1 if plan.start_year else None,
        "k": period["k"] if period else (evaluation.year - plan.start_year + 1 if plan.start_year else None),
        "plan_years": plan.end_year - plan.start_year + 1 if plan.start_year and plan.end_year else None,
        "computed_dt": _iso(evaluation.computed_dt), "published_dt": _iso(evaluation.published_dt),
        "rule_version": rule_set.version if rule_set else None,
        "rules": rule_set_dict(rule_set) if rule_set else None,
        "areas": areas, "tasks": tasks, "lead_units": lead_unit_summary(tasks),
    }


def _area_entry(result: AreaResult, name: str) -> dict:
    return {"unit_id": result.unit_id, "area": name, "position": result.position, "rank": result.rank,
            "basic_target_pct": _text(result.basic_target_pct),
            "incentive_target_pct": _text(result.incentive_target_pct),
            "intensity": _text(result.intensity), "cumulative_reduction": _text(result.cumulative_reduction),
            "required_reduction": _text(result.required_reduction), "target_points": _text(result.target_points),
            "measures_points": _text(result.measures_points), "total": _text(result.total), "grade": result.grade,
            "is_vetoed": result.is_vetoed, "is_total_exempt": result.is_total_exempt,
            "missing_inputs": list(result.missing_inputs), "explanation": list(result.explanation)}


def lead_unit_summary(tasks: list[dict]) -> list[dict]:
    """Per lead unit: how many tasks it leads, how many were evaluated, and their average score."""
    units: dict[int | None, dict] = {}
    for task in tasks:
        entry = units.setdefault(task["lead_unit_id"], {"unit_id": task["lead_unit_id"],
                                                        "name": task["lead_unit"] or "（未确定牵头单位）",
                                                        "task_count": 0, "evaluated_count": 0, "_sum": Decimal(0)})
        entry["task_count"] += 1
        if task["grade"] != TASK_NOT_EVALUATED:
            entry["evaluated_count"] += 1
            entry["_sum"] += Decimal(task["score"])
    summary = []
    for entry in units.values():
        total = entry.pop("_sum")
        entry["average_score"] = (_text((total / entry["evaluated_count"]).quantize(Decimal("0.01")))
                                  if entry["evaluated_count"] else None)
        summary.append(entry)
    summary.sort(key=lambda e: (e["average_score"] is None, -Decimal(e["average_score"] or 0), e["name"]))
    return summary


def find_area(report: dict, unit_id: int) -> dict:
    """:raises NotFound: if the report has no result for this area"""
    for area in report["areas"]:
        if area["unit_id"] == unit_id:
            return area
    raise NotFound("该评价中没有这个地区")


def explanation_step(area: dict, key: str) -> dict | None:
    return next((step for step in area["explanation"] if step.get("key") == key), None)
