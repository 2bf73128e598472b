"""How objects look in the API: plain JSON, decimals as strings exactly as stored, dates in ISO."""
from __future__ import annotations

from sqlalchemy.orm import selectinload
from sqlmodel import select

from tracker.errors import NotFound
from tracker.tasks.models import Role


def _decimal(value) -> str | None:
    return None if value is None else format(value, "f")


def user(actor) -> dict:
    return {"username": actor.username, "display_name": actor.display_name, "role": actor.role.value,
            "unit": {"id": actor.unit_id, "name": actor.unit.name}}


def plan(found, task_count: int) -> dict:
    return {"slug": found.slug, "title": found.title, "start_year": found.start_year, "end_year": found.end_year,
            "task_count": task_count}


def target(found) -> dict:
    return {"id": found.id, "measure": found.measure,
            "comparator": found.comparator.symbol if found.comparator else None,
            "value": _decimal(found.value), "unit": found.unit, "deadline_year": found.deadline_year,
            "text": found.text}


def plan_detail(found, overview) -> dict:
    return {**plan(found, overview.task_count), "doc_number": found.doc_number,
            "sections": [{"id": s.id, "number": s.number, "title": s.title, "task_count": n}
                         for s, n in overview.sections],
            "targets": [target(t) for t in overview.headline_targets]}


def _owners(task) -> dict:
    named = [a for a in task.assignments if a.via_group_id is None]
    return {"lead_units": [{"id": a.unit.id, "name": a.unit.name} for a in named if a.role is Role.lead],
            "responsible_units": [{"id": a.unit.id, "name": a.unit.name} for a in named
                                  if a.role is Role.responsible],
            "unit_groups": [g.group.name for g in task.groups]}


def task_summary(task) -> dict:
    return {"id": task.id, "key": task.key, "section_number": task.section_number, "number": task.number,
            "title": task.title, **_owners(task)}


def task(found) -> dict:
    return {**task_summary(found), "text": found.text, "is_active": found.is_active,
            "targets": [target(t) for t in found.targets]}


def reporting_round(found) -> dict:
    return {"id": found.id, "plan_id": found.plan_id, "label": found.label,
            "period_start": found.period_start.isoformat(), "period_end": found.period_end.isoformat(),
            "due_date": found.due_date.isoformat(), "status": found.status.value}


def completeness(counts) -> dict:
    return {key: getattr(counts, key) for key in ("total", "not_started", "draft", "submitted", "returned",
                                                  "accepted", "late", "missing")}


def owed(assignment, found_round, found_task, report) -> dict:
    return {"assignment_id": assignment.id, "round": {"id": found_round.id, "label": found_round.label,
                                                      "due_date": found_round.due_date.isoformat()},
            "task": {"id": found_task.id, "key": found_task.key, "title": found_task.title},
            "role": assignment.role.value, "status": report.status.value if report else "not_started",
            "returned_reason": report.returned_reason if report else None}


def assignment(view) -> dict:
    report = view.report
    return {"id": view.assignment.id, "round": reporting_round(view.round),
            "task": {"id": view.task.id, "key": view.task.key, "title": view.task.title,
                     "targets": [target(t) for t in view.task.targets]},
            "unit": {"id": view.assignment.unit.id, "name": view.assignment.unit.name},
            "role": view.assignment.role.value,
            "report": None if report is None else {
                "status": report.status.value, "progress_text": report.progress_text,
                "submitted_at": report.submitted_dt.isoformat() if report.submitted_dt else None,
                "is_late": report.is_late, "returned_reason": report.returned_reason,
                "values": {str(k): _decimal(v) for k, v in view.values.items()},
                "attachments": [{"id": a.id, "name": a.original_name, "size_bytes": a.size_bytes,
                                 "content_type": a.content_type} for a in report.attachments]}}


def evaluation(found) -> dict:
    return {"id": found.id, "plan_id": found.plan_id, "kind": found.kind.value, "year": found.year,
            "version": found.version, "status": found.status.value,
            "rule_version": found.rule_set.version if found.rule_set else None}


def evaluation_results(session, evaluation_id: int) -> dict:
    from tracker.evaluations.models import AreaResult, Evaluation, TaskResult

    found = session.exec(select(Evaluation).where(Evaluation.id == evaluation_id)
                         .options(selectinload(Evaluation.rule_set))).first()
    if found is None:
        raise NotFound("没有这次评价")
    areas = session.exec(select(AreaResult).where(AreaResult.evaluation_id == found.id)
                         .options(selectinload(AreaResult.unit)).order_by(AreaResult.position)).all()
    task_rows = session.exec(select(TaskResult).where(TaskResult.evaluation_id == found.id)
                             .options(selectinload(TaskResult.task))).all()
    task_rows = sorted(task_rows, key=lambda r: r.task.position)
    return {**evaluation(found),
            "areas": [{"area": a.unit.name, "basic_target_pct": _decimal(a.basic_target_pct),
                       "incentive_target_pct": _decimal(a.incentive_target_pct), "intensity": _decimal(a.intensity),
                       "cumulative_reduction": _decimal(a.cumulative_reduction),
                       "required_reduction": _decimal(a.required_reduction),
                       "target_points": _decimal(a.target_points), "measures_points": _decimal(a.measures_points),
                       "total": _decimal(a.total), "grade": a.grade, "is_vetoed": a.is_vetoed,
                       "is_total_exempt": a.is_total_exempt, "missing_inputs": list(a.missing_inputs)}
                      for a in areas],
            "tasks": [{"section_number": r.task.section_number, "number": r.task.number, "title": r.task.title,
                       "score": _decimal(r.score), "grade": r.grade} for r in task_rows]}
