"""Drafting briefings: create, edit, read, list, preview. Numbers come only at publication (see publishing)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, func, select

from tracker.accounts.permissions import can_manage_briefings, can_read_briefing, require, require_visible
from tracker.audit import services as audit
from tracker.briefings.document import render_document
from tracker.briefings.models import Briefing, BriefingStatus, RenderJob
from tracker.briefings.services.assembly import DEFAULT_ISSUER, briefing_content, default_title, evaluation_label
from tracker.errors import Conflict, Invalid, NotFound
from tracker.evaluations.models import Evaluation, EvaluationStatus
from tracker.reporting.models import ReportingRound

MAX_TITLE_CHARS = 200
MAX_FREE_TEXT_CHARS = 5000
FREE_SECTIONS = {"opening": "开头语", "problems": "存在问题", "next_steps": "下步工作"}


@dataclass(frozen=True)
class Draft:
    """What the office typed: the round, the evaluation, the title, the date and the free sections."""

    round_id: int | None
    evaluation_id: int | None
    title: str
    issue_date: date | None
    opening: str = ""
    problems: str = ""
    next_steps: str = ""


@dataclass
class BriefingView:
    """A briefing with what its page names: the round, the plan, the evaluation and the latest render job."""

    briefing: Briefing
    round: ReportingRound
    evaluation: Evaluation | None
    job: RenderJob | None

    @property
    def evaluation_label(self) -> str | None:
        return evaluation_label(self.evaluation) if self.evaluation else None


def check_draft(session: Session, draft: Draft) -> tuple[ReportingRound, Evaluation | None, str, date]:
    """Look up and check what was typed (no writes): the round, the evaluation, the cleaned title, the date.

    :raises Invalid: naming the field that is wrong
    """
    if not draft.round_id:
        raise Invalid("round_id", "请选择要通报的调度")
    reporting_round = session.get(ReportingRound, draft.round_id)
    if reporting_round is None:
        raise Invalid("round_id", "没有这次调度，请从列表中选择")
    evaluation = None
    if draft.evaluation_id:
        evaluation = session.get(Evaluation, draft.evaluation_id)
        if evaluation is None:
            raise Invalid("evaluation_id", "没有这次评价，请从列表中选择")
        if evaluation.plan_id != reporting_round.plan_id:
            raise Invalid("evaluation_id", "所选评价与调度不属于同一个计划")
    title = " ".join((draft.title or "").split())
    if not title:
        raise Invalid("title", "请填写通报标题")
    if len(title) > MAX_TITLE_CHARS:
        raise Invalid("title", f"标题不能超过 {MAX_TITLE_CHARS} 个字")
    if draft.issue_date is None:
        raise Invalid("issue_date", "请填写印发日期")
    for field, label in FREE_SECTIONS.items():
        if len(getattr(draft, field) or "") > MAX_FREE_TEXT_CHARS:
            raise Invalid(field, f"“{label}”不能超过 {MAX_FREE_TEXT_CHARS} 个字")
    return reporting_round, evaluation, title, draft.issue_date


def apply_draft(briefing: Briefing, draft: Draft, reporting_round: ReportingRound, evaluation: Evaluation | None,
           title: str, issue_date: date) -> None:
    briefing.plan_id, briefing.round_id = reporting_round.plan_id, reporting_round.id
    briefing.evaluation_id = evaluation.id if evaluation else None
    briefing.title, briefing.issue_date, briefing.year = title, issue_date, issue_date.year
    briefing.opening = (draft.opening or "").strip()
    briefing.problems = (draft.problems or "").strip()
    briefing.next_steps = (draft.next_steps or "").strip()


def create_briefing(session: Session, draft: Draft, *, actor, now: datetime) -> Briefing:
    """Start a briefing for a round (and optionally an evaluation); it gets its number when published.

    :raises PermissionDenied: unless `actor` is the office
    :raises Invalid: for a missing round or title, an evaluation of another plan, an over-long section
    """
    require(can_manage_briefings(actor), "只有市政府办公室督查科可以起草督查通报")
    reporting_round, evaluation, title, issue_date = check_draft(session, draft)
    briefing = Briefing(plan_id=reporting_round.plan_id, round_id=reporting_round.id, year=issue_date.year,
                        title=title, issue_date=issue_date, created_dt=now, created_by_id=getattr(actor, "id", None))
    apply_draft(briefing, draft, reporting_round, evaluation, title, issue_date)
    session.add(briefing)
    session.flush()
    audit.record(session, actor=actor, action="briefing.created", now=now, target=briefing,
                 round_id=reporting_round.id, summary=f"起草督查通报“{title}”")
    session.commit()
    return briefing


def update_briefing(session: Session, briefing: Briefing, draft: Draft, *, actor, now: datetime) -> Briefing:
    """Change a draft (or a briefing whose PDF failed, which becomes a draft again).

    :raises PermissionDenied: unless `actor` is the office
    :raises Conflict: once published (never edited again: issue a new number), or while its PDF is being made
    :raises Invalid: as `create_briefing`
    """
    require(can_manage_briefings(actor), "只有市政府办公室督查科可以修改督查通报")
    ensure_editable(briefing)
    reporting_round, evaluation, title, issue_date = check_draft(session, draft)
    apply_draft(briefing, draft, reporting_round, evaluation, title, issue_date)
    briefing.status, briefing.render_error = BriefingStatus.draft, None
    audit.record(session, actor=actor, action="briefing.updated", now=now, target=briefing,
                 round_id=reporting_round.id, summary=f"修改督查通报草稿“{title}”")
    session.commit()
    return briefing


def ensure_editable(briefing: Briefing) -> None:
    """:raises Conflict: if the briefing is published or its PDF is being made"""
    if briefing.status is BriefingStatus.published:
        raise Conflict(f"{briefing.number_label}已发布，不能再修改；如需更正，请另发一期通报")
    if briefing.status is BriefingStatus.rendering:
        raise Conflict("正在生成 PDF，暂时不能修改；生成完成或失败后再试")


def get_briefing(session: Session, briefing_id: int, *, actor) -> BriefingView:
    """A briefing with its round, plan, evaluation and latest render job (five queries).

    :raises NotFound: if there is none, or it is a draft and `actor` is not the office
    """
    briefing = session.get(Briefing, briefing_id)
    if briefing is None:
        raise NotFound("没有这期通报")
    require_visible(can_read_briefing(actor, briefing.status is BriefingStatus.published))
    reporting_round = session.exec(select(ReportingRound).where(ReportingRound.id == briefing.round_id)
                                   .options(selectinload(ReportingRound.plan))).one()
    evaluation = session.get(Evaluation, briefing.evaluation_id) if briefing.evaluation_id else None
    job = session.exec(select(RenderJob).where(RenderJob.briefing_id == briefing.id)
                       .order_by(RenderJob.id.desc()).limit(1)).first()
    return BriefingView(briefing=briefing, round=reporting_round, evaluation=evaluation, job=job)


def get_draft(session: Session, briefing_id: int, *, actor) -> BriefingView:
    """A briefing the office is about to change or publish: the role is checked before the lookup.

    :raises PermissionDenied: unless `actor` is the office (whatever the id: nothing about it is told)
    :raises NotFound: if there is no such briefing
    """
    require(can_manage_briefings(actor), "只有市政府办公室督查科可以修改或发布督查通报")
    return get_briefing(session, briefing_id, actor=actor)


def list_briefings(session: Session, *, actor, page: int = 1, size: int = 50) -> tuple[list[tuple], int]:
    """(briefing, round label) newest first, and the total; everyone but the office sees published ones only."""
    query = select(Briefing, ReportingRound.label).join(ReportingRound, ReportingRound.id == Briefing.round_id)
    if not can_read_briefing(actor, False):
        query = query.where(Briefing.status == BriefingStatus.published)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Briefing.year.desc(), sa.case((Briefing.number.is_(None), 0), else_=1),
                                       Briefing.number.desc(), Briefing.id.desc())
                        .offset((page - 1) * size).limit(size)).all()
    return [tuple(row) for row in rows], total


def briefing_choices(session: Session, *, actor, limit: int = 100) -> tuple[list[ReportingRound], list[Evaluation]]:
    """The rounds (newest first) and the computed or published evaluations the office may cite."""
    require(can_manage_briefings(actor), "只有市政府办公室督查科可以起草督查通报")
    rounds = session.exec(select(ReportingRound).options(selectinload(ReportingRound.plan))
                          .order_by(ReportingRound.period_end.desc(), ReportingRound.id.desc()).limit(limit)).all()
    evaluations = session.exec(select(Evaluation).where(Evaluation.status.in_(
        (EvaluationStatus.computed, EvaluationStatus.published)))
        .order_by(Evaluation.year.desc(), Evaluation.id.desc()).limit(limit)).all()
    return list(rounds), list(evaluations)


def new_draft(reporting_round: ReportingRound | None, today: date) -> Draft:
    """What the new-briefing form starts with: the latest round, its default title, today."""
    return Draft(round_id=reporting_round.id if reporting_round else None, evaluation_id=None,
                 title=default_title(reporting_round) if reporting_round else "", issue_date=today)


def preview_html(session: Session, draft: Draft, *, actor,
                 issuer: str = DEFAULT_ISSUER) -> str:
    """The briefing's final HTML for what is typed now, without saving anything (the live preview).

    :raises PermissionDenied: unless `actor` is the office
    :raises Invalid: as `create_briefing`
    """
    require(can_manage_briefings(actor), "只有市政府办公室督查科可以预览督查通报")
    reporting_round, evaluation, title, issue_date = check_draft(session, draft)
    transient = Briefing(plan_id=reporting_round.plan_id, round_id=reporting_round.id, year=issue_date.year,
                         title=title, issue_date=issue_date)
    apply_draft(transient, draft, reporting_round, evaluation, title, issue_date)
    return render_document(briefing_content(session, transient, issuer=issuer))


def briefing_html(session: Session, briefing: Briefing, *, issuer: str = DEFAULT_ISSUER) -> str:
    """The final HTML of a briefing, exactly what its PDF is made from (the snapshot's, once published)."""
    return render_document(briefing_content(session, briefing, issuer=issuer))
