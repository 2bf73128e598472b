"""Evaluations as objects: create (草稿) → collect data (收集数据) → compute (已计算) → publish (已发布).

Computing an evaluation that has no results yet (a draft, or one collecting data) fills it; computing one that
has results already — computed or published — makes the next version of the same (plan, kind, year), so every
version stays visible and a published one never changes. Result rows are written once, at computation, and
never updated: each carries every input and intermediate figure in its explanation, and the version names the
rule version it used.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, func, select

from tracker.accounts.permissions import can_run_evaluation, require
from tracker.audit import services as audit
from tracker.errors import Conflict, Invalid
from tracker.evaluations.models import AreaResult, Evaluation, EvaluationKind, EvaluationStatus, RuleSet, TaskResult
from tracker.evaluations.services.compute import AreaInputs, Period, YearFigures, evaluate_area, q6
from tracker.evaluations.services.data_entry import plan_areas
from tracker.evaluations.services.rules import ensure_rules
from tracker.evaluations.services.tasks import evaluate_tasks
from tracker.reporting.models import AreaEnergyData, MeasuresScore
from tracker.tasks.models import Plan

UNCOMPUTED = (EvaluationStatus.draft, EvaluationStatus.collecting)


def parse_kind(kind) -> EvaluationKind:
    """:raises Invalid: unless `kind` is annual, midterm or final"""
    try:
        return EvaluationKind(kind)
    except ValueError:
        raise Invalid("kind", "评价类型应为年度评价（annual）、中期评估（midterm）或五年考核（final）") from None


def midterm_year(plan: Plan) -> int:
    """The year of 中期评估: the middle of the plan (2023 for 2021–2025)."""
    return plan.start_year + (plan.end_year - plan.start_year) // 2


def period_for(plan: Plan, kind, year: int) -> Period:
    """The evaluated period: annual in any plan year, mid-term in the middle year, final in the last.

    :raises Invalid: if the plan has no years, or the year does not suit the kind
    """
    kind = parse_kind(kind)
    if not plan.start_year or not plan.end_year:
        raise Invalid("plan", "该计划没有规划起止年份，无法评价")
    if kind is EvaluationKind.annual and not plan.start_year <= year <= plan.end_year:
        raise Invalid("year", f"年度评价的年份应在 {plan.start_year}–{plan.end_year} 年之间")
    if kind is EvaluationKind.midterm and year != midterm_year(plan):
        raise Invalid("year", f"中期评估的年份应为 {midterm_year(plan)} 年")
    if kind is EvaluationKind.final and year != plan.end_year:
        raise Invalid("year", f"五年考核的年份应为规划末年 {plan.end_year} 年")
    return Period(kind=kind, year=year, base_year=plan.start_year - 1,
                  plan_years=plan.end_year - plan.start_year + 1)


def _versions(session: Session, plan_id: int, kind: EvaluationKind, year: int) -> list[Evaluation]:
    return list(session.exec(select(Evaluation).where(Evaluation.plan_id == plan_id, Evaluation.kind == kind,
                                                      Evaluation.year == year).order_by(Evaluation.version)))


def _new_version(session: Session, plan: Plan, kind: EvaluationKind, year: int, *, actor, now: datetime) -> Evaluation:
    latest = session.exec(select(func.max(Evaluation.version)).where(
        Evaluation.plan_id == plan.id, Evaluation.kind == kind, Evaluation.year == year)).one() or 0
    evaluation = Evaluation(plan_id=plan.id, kind=kind, year=year, version=latest + 1,
                            status=EvaluationStatus.draft, created_dt=now, created_by_id=getattr(actor, "id", None))
    session.add(evaluation)
    session.flush()
    return evaluation


def create_evaluation(session: Session, plan: Plan, *, kind, year: int, actor, now: datetime) -> Evaluation:
    """Start an evaluation (a draft) of the plan for a kind and year, as its next version.

    :raises PermissionDenied: unless `actor` is a coordinator or the office
    :raises Invalid: if the kind or year does not suit the plan
    :raises Conflict: if a version of the same evaluation is still waiting to be computed
    """
    require(can_run_evaluation(actor), "只有统筹单位和督查科可以开展评价")
    period = period_for(plan, kind, year)
    pending = [e for e in _versions(session, plan.id, period.kind, year) if e.status in UNCOMPUTED]
    if pending:
        raise Conflict(f"{year}年{period.kind.label}已有尚未计算的第 {pending[-1].version} 版，请直接计算该版本")
    evaluation = _new_version(session, plan, period.kind, year, actor=actor, now=now)
    audit.record(session, actor=actor, action="evaluation.created", now=now, target=evaluation,
                 summary=f"新建{plan.title} {year}年{period.kind.label}（第 {evaluation.version} 版）")
    session.commit()
    return evaluation


def open_collection(session: Session, evaluation: Evaluation, *, actor, now: datetime) -> Evaluation:
    """Move a draft to 收集数据: the coordinators enter the year's figures and scores.

    :raises PermissionDenied: unless `actor` is a coordinator or the office
    :raises Conflict: unless the evaluation is a draft
    """
    require(can_run_evaluation(actor), "只有统筹单位和督查科可以开展评价")
    if evaluation.status is not EvaluationStatus.draft:
        raise Conflict("只有草稿状态的评价可以开始收集数据")
    evaluation.status = EvaluationStatus.collecting
    audit.record(session, actor=actor, action="evaluation.collecting", now=now, target=evaluation,
                 summary=f"{evaluation.year}年{evaluation.kind.label}第 {evaluation.version} 版开始收集数据")
    session.commit()
    return evaluation


def compute_evaluation(session: Session, evaluation: Evaluation, *, actor, now: datetime) -> Evaluation:
    """Compute an evaluation; return the version that holds the results.

    A draft or collecting version is computed in place; for one already computed or published the results go
    into the latest uncomputed version of the same evaluation, or else a new version.

    :raises PermissionDenied: unless `actor` is a coordinator or the office
    :raises Invalid: if the kind or year no longer suits the plan
    """
    require(can_run_evaluation(actor), "只有统筹单位和督查科可以开展评价")
    plan = session.get(Plan, evaluation.plan_id)
    return _compute_and_commit(session, plan, evaluation.kind, evaluation.year, evaluation, actor=actor, now=now)


def run_evaluation(session: Session, plan: Plan, *, kind, year: int, actor, now: datetime) -> Evaluation:
    """Compute the plan's evaluation for a kind and year (`tracker evaluation run`): a new version if one exists.

    :raises PermissionDenied: unless `actor` is a coordinator or the office
    :raises Invalid: if the kind or year does not suit the plan
    """
    require(can_run_evaluation(actor), "只有统筹单位和督查科可以开展评价")
    return _compute_and_commit(session, plan, parse_kind(kind), year, None, actor=actor, now=now)


def _compute_and_commit(session: Session, plan: Plan, kind, year: int, chosen: Evaluation | None, *, actor,
                        now: datetime) -> Evaluation:
    period = period_for(plan, kind, year)
    if chosen is not None and chosen.status in UNCOMPUTED:
        evaluation = chosen
    else:
        pending = [e for e in _versions(session, plan.id, period.kind, year) if e.status in UNCOMPUTED]
        evaluation = pending[-1] if pending else _new_version(session, plan, period.kind, year, actor=actor, now=now)
    rules = ensure_rules(session, actor=actor, now=now)
    graded = compute_into(session, evaluation, plan, period, rules, now=now)
    audit.record(session, actor=actor, action="evaluation.computed", now=now, target=evaluation,
                 summary=f"计算{plan.title} {year}年{period.kind.label}第 {evaluation.version} 版"
                         f"（规则第 {rules.version} 版）：评定 {graded} 个地区",
                 details={"plan": plan.slug, "kind": period.kind.value, "year": year, "version": evaluation.version,
                          "rule_version": rules.version})
    session.commit()
    return evaluation


@dataclass
class _Area:
    unit_id: int
    position: int
    inputs: AreaInputs


def gather_inputs(session: Session, plan: Plan, period: Period) -> list[_Area]:
    """Each 附件 1 area's inputs for the period, in four queries."""
    areas = plan_areas(session, plan)
    figures: dict[int, dict[int, YearFigures]] = {}
    for row in session.exec(select(AreaEnergyData).where(
            AreaEnergyData.plan_id == plan.id, AreaEnergyData.year >= period.base_year,
            AreaEnergyData.year <= period.year)):
        figures.setdefault(row.unit_id, {})[row.year] = YearFigures(
            year=row.year, energy_tce=row.energy_tce, gdp_10k_yuan=row.gdp_10k_yuan,
            renewable_tce=row.renewable_tce, feedstock_tce=row.feedstock_tce,
            expected_total_tce=row.expected_total_tce)
    measures = {row.unit_id: row for row in session.exec(select(MeasuresScore).where(
        MeasuresScore.plan_id == plan.id, MeasuresScore.year == period.year))}
    found = []
    for area in areas:
        years = figures.get(area.unit_id, {})
        score = measures.get(area.unit_id)
        found.append(_Area(unit_id=area.unit_id, position=area.position, inputs=AreaInputs(
            area=area.unit.name, basic_pct=area.basic_pct, incentive_pct=area.incentive_pct,
            base=years.get(period.base_year), current=years.get(period.year),
            measures_score=score.score if score else None, measures_note=score.note if score else "",
            history=tuple(years[y] for y in sorted(years) if period.base_year < y < period.year))))
    return found


def compute_into(session: Session, evaluation: Evaluation, plan: Plan, period: Period, rules: RuleSet, *,
                 now: datetime) -> int:
    """Write the area and task results into an uncomputed version (no commit); return how many areas got a grade."""
    results = []
    for area in gather_inputs(session, plan, period):
        outcome = evaluate_area(area.inputs, period, rules)
        results.append(AreaResult(
            evaluation_id=evaluation.id, unit_id=area.unit_id, position=area.position,
            basic_target_pct=area.inputs.basic_pct, incentive_target_pct=area.inputs.incentive_pct,
            intensity=q6(outcome.intensity) if outcome.intensity is not None else None,
            cumulative_reduction=outcome.cumulative_reduction, required_reduction=outcome.required_reduction,
            target_points=_normal(outcome.target_points), measures_points=outcome.measures_points,
            total=_normal(outcome.total), grade=outcome.grade, is_vetoed=outcome.is_vetoed,
            is_total_exempt=outcome.is_total_exempt, missing_inputs=outcome.missing_inputs,
            explanation=outcome.explanation))
    rank_areas(results)
    session.add_all(results)
    session.add_all([TaskResult(evaluation_id=evaluation.id, task_id=o.task_id, lead_unit_id=o.lead_unit_id,
                                on_time_rate=o.on_time_rate, targets_met_rate=o.targets_met_rate,
                                status_score=o.status_score, score=o.score, grade=o.grade, explanation=o.explanation)
                     for o in evaluate_tasks(session, plan, period, rules)])
    evaluation.status = EvaluationStatus.computed
    evaluation.rule_set_id = rules.id
    evaluation.computed_dt = now
    session.flush()
    return sum(1 for r in results if r.grade is not None)


def _normal(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(format(value.normalize(), "f"))


def rank_areas(results: list[AreaResult]) -> None:
    """Rank graded areas by total, highest first (equal totals share a rank); ungraded areas get none."""
    graded = sorted((r for r in results if r.grade is not None), key=lambda r: (-r.total, r.position))
    previous, rank = None, 0
    for index, result in enumerate(graded, start=1):
        if result.total != previous:
            rank, previous = index, result.total
        result.rank = rank
