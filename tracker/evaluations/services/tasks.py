"""Task evaluation: each task scored from on-time reporting, targets met and its consolidated status.

- 按时报送率: of the task's assignments in the rounds of the evaluated period — an annual evaluation takes
  the rounds whose period ends in its year, a mid-term or final one every round whose period ends by the end
  of its year — the share whose report was submitted and not late.
- 目标达成率: of the task's quantitative targets due by the evaluated year (deadline year ≤ year; no deadline
  means the plan's end year), the share met by its comparator against the latest accepted reported value
  (`latest_accepted_values`); a target without an accepted value is not met.
- 推进状态: the latest consolidated status the lead unit reported in the period (a returned one does not
  count): 已完成 100, 推进中 80, 滞后 40, 未启动 0; none reported in a period with rounds counts 0.

A part with nothing to judge (no round in the period, no target due) is left out and the other weights are
renormalised; the explanation says so. With nothing at all to judge a task is 未评价 (score 0).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

import sqlalchemy as sa
from sqlmodel import Session, func, select

from tracker.evaluations.models import EvaluationKind, RuleSet
from tracker.evaluations.services.compute import CONTEXT, Period, f6, plain
from tracker.evaluations.services.rules import (STATUS_SCORES, TASK_NOT_EVALUATED, WEIGHT_LABELS, bands_of,
                                                grade_for, weights_of)
from tracker.reporting.models import (ReportingRound, ReviewStatus, RoundAssignment, TaskProgress, TaskReport,
                                      UnitReport)
from tracker.reporting.services.lights import latest_accepted_values
from tracker.tasks.models import Plan, Role, Target, Task, TaskAssignment, meets

HUNDRED = Decimal(100)
SCORE_PLACES = Decimal("0.01")


@dataclass
class TaskOutcome:
    task_id: int
    lead_unit_id: int | None
    on_time_rate: Decimal | None = None
    targets_met_rate: Decimal | None = None
    status_score: Decimal | None = None
    score: Decimal = Decimal(0)
    grade: str = TASK_NOT_EVALUATED
    explanation: list[dict] = field(default_factory=list)


def in_period(period: Period):
    """The rounds an evaluation looks at, as a condition on ReportingRound."""
    end = date(period.year, 12, 31)
    if period.kind is EvaluationKind.annual:
        return sa.and_(ReportingRound.period_end >= date(period.year, 1, 1), ReportingRound.period_end <= end)
    return ReportingRound.period_end <= end


def period_text(period: Period) -> str:
    if period.kind is EvaluationKind.annual:
        return f"调度期在 {period.year} 年内结束的各轮调度"
    return f"截至 {period.year} 年底结束的全部调度"


def evaluate_tasks(session: Session, plan: Plan, period: Period, rules: RuleSet) -> list[TaskOutcome]:
    """Score every active task of the plan, in seven queries however many tasks, units and rounds."""
    tasks = session.exec(select(Task).where(Task.plan_id == plan.id, Task.is_active)
                         .order_by(Task.position, Task.id)).all()
    if not tasks:
        return []
    leads: dict[int, int] = {}
    for task_id, unit_id in session.exec(
            select(TaskAssignment.task_id, TaskAssignment.unit_id).join(Task, Task.id == TaskAssignment.task_id)
            .where(Task.plan_id == plan.id, TaskAssignment.role == Role.lead)
            .order_by(TaskAssignment.task_id, TaskAssignment.position, TaskAssignment.id)).all():
        leads.setdefault(task_id, unit_id)
    period_rounds = in_period(period)
    round_count = session.exec(select(func.count(ReportingRound.id)).where(
        ReportingRound.plan_id == plan.id, period_rounds)).one()
    on_time = sa.and_(UnitReport.submitted_dt.is_not(None), UnitReport.is_late.is_(False))
    reporting = {task_id: (int(total or 0), int(done or 0)) for task_id, total, done in session.exec(
        select(RoundAssignment.task_id, func.count(RoundAssignment.id), func.sum(sa.case((on_time, 1), else_=0)))
        .join(ReportingRound, ReportingRound.id == RoundAssignment.round_id)
        .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
        .where(ReportingRound.plan_id == plan.id, period_rounds)
        .group_by(RoundAssignment.task_id)).all()}
    targets: dict[int, list[Target]] = {}
    for target in session.exec(select(Target).where(Target.plan_id == plan.id, Target.task_id.is_not(None),
                                                    Target.value.is_not(None))
                               .order_by(Target.task_id, Target.position, Target.id)):
        if (target.deadline_year or plan.end_year or period.year) <= period.year:
            targets.setdefault(target.task_id, []).append(target)
    values = latest_accepted_values(session, [t.id for due in targets.values() for t in due]) if targets else {}
    statuses: dict[int, tuple[TaskProgress, str]] = {}
    for task_id, progress, label in session.exec(
            select(TaskReport.task_id, TaskReport.progress, ReportingRound.label)
            .join(ReportingRound, ReportingRound.id == TaskReport.round_id)
            .where(ReportingRound.plan_id == plan.id, period_rounds,
                   TaskReport.review_status != ReviewStatus.returned)
            .order_by(ReportingRound.period_end.desc(), ReportingRound.id.desc())).all():
        statuses.setdefault(task_id, (progress, label))
    return [score_task(task.id, leads.get(task.id), reporting=reporting.get(task.id),
                       due_targets=targets.get(task.id, []), values=values, status=statuses.get(task.id),
                       has_rounds=round_count > 0, period=period, rules=rules) for task in tasks]


def score_task(task_id: int, lead_unit_id: int | None, *, reporting: tuple[int, int] | None, due_targets: list[Target],
               values: dict[int, Decimal], status: tuple[TaskProgress, str] | None, has_rounds: bool, period: Period,
               rules: RuleSet) -> TaskOutcome:
    """One task's score from its parts, each explained; parts with nothing to judge are left out."""
    out = TaskOutcome(task_id=task_id, lead_unit_id=lead_unit_id)
    steps = out.explanation
    parts: dict[str, Decimal] = {}
    with localcontext(CONTEXT):
        total, done = reporting or (0, 0)
        if total:
            rate = Decimal(done) / Decimal(total)
            out.on_time_rate = rate.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
            parts["on_time"] = rate * HUNDRED
            steps.append({"key": "on_time", "title": "按时报送率",
                          "text": f"{period_text(period)}中应报 {total} 份，按时报送 {done} 份："
                                  f"{done} ÷ {total} = {f6(rate)}，计 {plain((rate * HUNDRED).quantize(SCORE_PLACES))} 分"})
        else:
            steps.append({"key": "on_time", "title": "按时报送率",
                          "text": f"{period_text(period)}中没有该任务的报送要求，此项不计入，权重按比例分配给其他各项"})
        if due_targets:
            met = 0
            lines = []
            for target in due_targets:
                actual = values.get(target.id)
                ok = meets(target.comparator, target.value, actual) is True
                met += ok
                wanted = f"{target.comparator.label if target.comparator else '（无比较方式）'} {plain(target.value)}{target.unit or ''}"
                deadline = target.deadline_year or "规划期末"
                got = f"最新采纳值 {plain(actual)}{target.unit or ''}" if actual is not None else "没有已采纳的报送数值"
                lines.append(f"{target.measure} {wanted}（{deadline}年）：{got}，{'达到' if ok else '未达到'}")
            rate = Decimal(met) / Decimal(len(due_targets))
            out.targets_met_rate = rate.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
            parts["targets"] = rate * HUNDRED
            steps.append({"key": "targets", "title": "目标达成率",
                          "text": f"到期的量化目标 {len(due_targets)} 个，达到 {met} 个：{met} ÷ {len(due_targets)} = "
                                  f"{f6(rate)}，计 {plain((rate * HUNDRED).quantize(SCORE_PLACES))} 分",
                          "lines": lines})
        else:
            steps.append({"key": "targets", "title": "目标达成率",
                          "text": f"截至 {period.year} 年没有到期的量化目标，此项不计入，权重按比例分配给其他各项"})
        if status is not None:
            progress, label = status
            out.status_score = STATUS_SCORES[progress]
            parts["status"] = out.status_score
            steps.append({"key": "status", "title": "推进状态",
                          "text": f"牵头单位在“{label}”报送的状态为“{progress.label}”，计 {plain(out.status_score)} 分"
                                  "（已完成 100、推进中 80、滞后 40、未启动 0）"})
        elif has_rounds:
            out.status_score = Decimal(0)
            parts["status"] = out.status_score
            steps.append({"key": "status", "title": "推进状态",
                          "text": "评价期内牵头单位没有报送汇总情况（或已被退回），按 0 分计"})
        else:
            steps.append({"key": "status", "title": "推进状态",
                          "text": "评价期内没有调度，此项不计入，权重按比例分配给其他各项"})
        weights = weights_of(rules)
        used = {key: weights[key] for key in parts}
        weight_sum = sum(used.values(), Decimal(0))
        if not parts or weight_sum <= 0:
            steps.append({"key": "score", "title": "得分与等级",
                          "text": f"评价期内没有可评价的内容，等级为“{TASK_NOT_EVALUATED}”"})
            out.grade = TASK_NOT_EVALUATED
            return out
        weighted = sum((used[key] * parts[key] for key in parts), Decimal(0))
        out.score = (weighted / weight_sum).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)
        out.grade = grade_for(out.score, bands_of(rules.task_bands))
        terms = " + ".join(f"{plain(used[key])} × {plain(parts[key].quantize(SCORE_PLACES))}" for key in parts)
        left_out = [WEIGHT_LABELS[key] for key in WEIGHT_LABELS if key not in parts]
        weights_text = "、".join(f"{WEIGHT_LABELS[key]} {plain(weights[key])}" for key in WEIGHT_LABELS)
        renormalised = (f"；{'、'.join(left_out)}不计入，其余权重之和 {plain(weight_sum)}，按比例放大"
                        if left_out else "")
        band_text = "、".join(f"≥ {plain(minimum)} {grade}" for minimum, grade in bands_of(rules.task_bands)[:-1])
        steps.append({"key": "score", "title": "得分与等级",
                      "text": f"权重：{weights_text}{renormalised}。得分 = ({terms}) ÷ {plain(weight_sum)} = "
                              f"{plain(out.score)}；{band_text}，其余不合格：等级为“{out.grade}”"})
    return out
