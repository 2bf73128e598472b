"""Publishing a computed version: its report is frozen into `Evaluation.snapshot`, and it never changes again."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from tracker.accounts.permissions import can_publish_evaluation, require
from tracker.audit import services as audit
from tracker.errors import Conflict
from tracker.evaluations.models import Evaluation, EvaluationStatus
from tracker.evaluations.services.results import build_report


def publish_evaluation(session: Session, evaluation: Evaluation, *, actor, now: datetime) -> Evaluation:
    """Publish a computed version: freeze every input and result into its snapshot.

    Later edits of energy data, scores, rules or tasks never reach it; recomputing makes a new version.

    :raises PermissionDenied: unless `actor` is the office or a coordinator
    :raises Conflict: unless the version is computed (not yet published)
    """
    require(can_publish_evaluation(actor), "只有督查科和统筹单位可以发布评价结果")
    if evaluation.status is EvaluationStatus.published:
        raise Conflict("该版本已经发布，不能重复发布；如需更正请重新计算生成新版本")
    if evaluation.status is not EvaluationStatus.computed:
        raise Conflict("该版本尚未计算，计算后才能发布")
    evaluation.status = EvaluationStatus.published
    evaluation.published_dt = now
    evaluation.published_by_id = getattr(actor, "id", None)
    report = build_report(session, evaluation)
    evaluation.snapshot = report
    graded = sum(1 for area in report["areas"] if area["grade"])
    audit.record(session, actor=actor, action="evaluation.published", now=now, target=evaluation,
                 summary=f"发布{report['plan']['title']} {evaluation.year}年{evaluation.kind.label}"
                         f"第 {evaluation.version} 版：{graded} 个地区评定等级，{len(report['tasks'])} 项任务",
                 details={"kind": evaluation.kind.value, "year": evaluation.year, "version": evaluation.version,
                          "rule_version": report["rule_version"]})
    session.commit()
    return evaluation
