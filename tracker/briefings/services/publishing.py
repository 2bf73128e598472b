"""Publishing: the number, the PDF, the archive and the snapshot in one transaction; render jobs for the worker.

The web never renders: 发布 queues a RenderJob, and the `tracker scheduler` process claims it atomically
(SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite, with a lease), as the reminder outbox does. The command
line publishes inline. The number is max + 1 for the year, taken inside the publishing transaction; the unique
key (year, number) guarantees two publishers never share one, and the loser renders again with the next number.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import jinja2
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from tracker.accounts.permissions import can_manage_briefings, require
from tracker.accounts.services import COMMAND_LINE
from tracker.audit import services as audit
from tracker.briefings import pdf
from tracker.briefings.document import render_document
from tracker.briefings.models import Briefing, BriefingStatus, JobStatus, RenderJob
from tracker.briefings.services import archive
from tracker.briefings.services.assembly import DEFAULT_ISSUER, assemble_content
from tracker.briefings.services.drafts import Draft, apply_draft, check_draft, ensure_editable
from tracker.db import write_lock_first
from tracker.errors import Conflict

log = logging.getLogger("tracker.briefings")

LEASE = timedelta(minutes=5)
#: a job whose worker died this many times is given up, with a message for the office
MAX_ATTEMPTS = 3
NUMBER_ATTEMPTS = 5
#: who publishes when the worker process renders a queued briefing (permission was checked when it was queued)
RENDER_WORKER = replace(COMMAND_LINE, username="render-worker", display_name="后台生成任务")


@dataclass(frozen=True)
class Press:
    """Where PDFs go and what they are made with: the storage folder, the static folder, the issuing office."""

    storage_dir: Path
    static_folder: Path
    issuer: str = DEFAULT_ISSUER

    @classmethod
    def from_config(cls, config: Mapping, static_folder) -> "Press":
        return cls(storage_dir=Path(config["STORAGE_DIR"]), static_folder=Path(static_folder),
                   issuer=config.get("BRIEFING_ISSUER") or DEFAULT_ISSUER)


def next_number(session: Session, year: int) -> int:
    """The next number of the year: one more than the highest published."""
    highest = session.exec(select(func.max(Briefing.number)).where(Briefing.year == year)).one()
    return (highest or 0) + 1


def request_publication(session: Session, briefing: Briefing, *, draft: Draft | None = None, actor,
                        now: datetime) -> RenderJob:
    """Save what is typed (`draft`, if given) and queue the PDF for the worker process; the page shows
    正在生成 until it is ready.

    :raises PermissionDenied: unless `actor` is the office
    :raises Conflict: if it is already published or already being rendered
    :raises Invalid: for a draft `create_briefing` would refuse
    """
    require(can_manage_briefings(actor), "只有市政府办公室督查科可以发布督查通报")
    ensure_editable(briefing)
    if draft is not None:
        apply_draft(briefing, draft, *check_draft(session, draft))
    briefing.status, briefing.render_error = BriefingStatus.rendering, None
    briefing.published_by_id = getattr(actor, "id", None)
    job = RenderJob(briefing_id=briefing.id, created_dt=now)
    session.add(job)
    audit.record(session, actor=actor, action="briefing.publication_requested", now=now, target=briefing,
                 round_id=briefing.round_id, summary=f"申请发布督查通报“{briefing.title}”，等待生成 PDF")
    session.commit()
    return job


def publish_briefing(session: Session, briefing: Briefing, *, press: Press, actor, now: datetime,
                     job: RenderJob | None = None) -> Briefing:
    """Number, assemble, render and archive the briefing, and freeze what it says; or record why it failed.

    Returns the briefing, published — or failed, with `render_error` in words the office can act on and no
    file left behind. Reads and rendering happen before the write lock is taken, so other writers never wait
    for WeasyPrint.

    :raises PermissionDenied: unless `actor` is the office
    :raises Conflict: if it is already published
    """
    require(can_manage_briefings(actor), "只有市政府办公室督查科可以发布督查通报")
    if briefing.status is BriefingStatus.published:
        raise Conflict(f"{briefing.number_label}已发布，不能重复发布")
    for _ in range(NUMBER_ATTEMPTS):
        number = next_number(session, briefing.year)
        try:
            content, data = _render(session, briefing, number, press)
        except pdf.RenderError as exc:
            return _record_failure(session, briefing, job, exc.message, actor=actor, now=now)
        # end the read: nothing is written yet, and SQLite can now take the write lock at BEGIN
        session.commit()
        write_lock_first(session)
        if next_number(session, briefing.year) != number:
            session.rollback()  # give the lock back before rendering again
            continue  # another briefing took this number while we rendered: render again with the next one
        status = session.exec(select(Briefing.status).where(Briefing.id == briefing.id)).one()
        if status is BriefingStatus.published:
            session.rollback()
            raise Conflict("这期通报已由其他操作发布")
        path = archive.stored_path(press.storage_dir, archive.new_stored_name(briefing.year, number))
        try:
            archive.write_whole(path, data)
        except OSError:
            return _record_failure(session, briefing, job, "服务器存储空间不足或存档目录不可写，PDF 没有保存；"
                                   "请联系系统管理员处理后重试", actor=actor, now=now)
        try:
            _mark_published(session, briefing, job, number=number, content=content, data=data,
                            stored_name=path.relative_to(Path(press.storage_dir) / archive.FOLDER).as_posix(),
                            actor=actor, now=now)
            session.commit()
        except IntegrityError:
            session.rollback()
            path.unlink(missing_ok=True)
            continue
        except BaseException:
            session.rollback()
            path.unlink(missing_ok=True)
            raise
        return briefing
    return _record_failure(session, briefing, job, "多人同时发布，编号多次冲突，请稍后重试", actor=actor, now=now)


def _render(session: Session, briefing: Briefing, number: int, press: Press) -> tuple[dict, bytes]:
    """:raises pdf.RenderError: for a broken template or a failed layout"""
    content = assemble_content(session, briefing, issuer=press.issuer)
    content["number_label"] = f"{briefing.year}年第{number}期"
    try:
        html = render_document(content)
    except jinja2.TemplateError as exc:
        raise pdf.RenderError(f"通报模板有错误（{type(exc).__name__}：{exc}），请联系系统管理员") from exc
    return content, pdf.render_pdf(html, static_folder=press.static_folder)


def _mark_published(session: Session, briefing: Briefing, job: RenderJob | None, *, number: int, content: dict,
                    data: bytes, stored_name: str, actor, now: datetime) -> None:
    briefing.number, briefing.status, briefing.snapshot = number, BriefingStatus.published, content
    briefing.pdf_stored_name, briefing.pdf_sha256 = stored_name, archive.sha256_of(data)
    briefing.pdf_size_bytes, briefing.pdf_page_count = len(data), pdf.count_pdf_pages(data)
    briefing.render_error, briefing.published_dt = None, now
    briefing.published_by_id = briefing.published_by_id or getattr(actor, "id", None)
    if job is not None:
        job.status, job.finished_dt, job.error, job.lease_until = JobStatus.done, now, None, None
    audit.record(session, actor=actor, action="briefing.published", now=now, target=briefing,
                 round_id=briefing.round_id,
                 summary=f"发布督查通报{briefing.number_label}“{briefing.title}”（{briefing.pdf_page_count} 页）",
                 details={"sha256": briefing.pdf_sha256, "size_bytes": len(data)})
    session.flush()


def _record_failure(session: Session, briefing: Briefing, job: RenderJob | None, message: str, *, actor,
                    now: datetime) -> Briefing:
    # a failed render comes after long reads: end them, so that SQLite takes the write lock before writing
    session.commit()
    write_lock_first(session)
    briefing.status, briefing.render_error = BriefingStatus.failed, message
    if job is not None:
        job.status, job.error, job.finished_dt, job.lease_until = JobStatus.failed, message, now, None
    audit.record(session, actor=actor, action="briefing.render_failed", now=now, target=briefing,
                 round_id=briefing.round_id, summary=f"督查通报“{briefing.title}”生成 PDF 失败：{message}")
    session.commit()
    return briefing


# --- the worker --------------------------------------------------------------------------------------

def claim_render_job(session: Session, *, worker: str, now: datetime) -> int | None:
    """Mark the oldest queued job as ours, atomically: SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite."""
    table = RenderJob.__table__
    session.commit()
    queued = table.c.status == JobStatus.queued.value
    has_queued = session.execute(select(table.c.id).where(queued).limit(1)).first() is not None
    session.commit()  # end the read, so that SQLite takes the write lock at BEGIN below
    if not has_queued:
        return None  # nothing queued: no write lock taken every few seconds by every worker
    oldest = select(table.c.id).where(queued).order_by(table.c.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    write_lock_first(session)
    claimed = session.execute(
        # `id = (subquery)`, not `id IN (subquery)`: PostgreSQL may run an IN subquery once per outer row as a
        # semi-join, and a LIMIT inside it then claims every queued row; `=` runs it once, as an InitPlan
        sa.update(table).where(table.c.id == oldest.scalar_subquery(), queued)
        .values(status=JobStatus.running.value, claimed_by=worker, lease_until=now + LEASE, started_dt=now,
                attempts=table.c.attempts + 1)
        .returning(table.c.id)).scalars().first()
    session.commit()
    return claimed


def release_expired_render_jobs(session: Session, *, now: datetime) -> int:
    """A worker that died mid-render leaves its job running: after the lease it is queued again (or given up)."""
    session.commit()
    running = (RenderJob.status == JobStatus.running, RenderJob.lease_until < now)
    has_expired = session.exec(select(RenderJob.id).where(*running).limit(1)).first() is not None
    session.commit()  # end the read, so that SQLite takes the write lock at BEGIN below
    if not has_expired:
        return 0
    write_lock_first(session)
    expired = session.exec(select(RenderJob).where(*running)).all()
    for job in expired:
        if job.attempts >= MAX_ATTEMPTS:
            message = f"生成 PDF 的后台进程 {job.attempts} 次都没有完成（进程可能被中断），请重试或联系系统管理员"
            job.status, job.error, job.finished_dt, job.lease_until = JobStatus.failed, message, now, None
            briefing = session.get(Briefing, job.briefing_id)
            if briefing is not None and briefing.status is BriefingStatus.rendering:
                briefing.status, briefing.render_error = BriefingStatus.failed, message
        else:
            job.status, job.claimed_by, job.lease_until = JobStatus.queued, None, None
    session.commit()
    return len(expired)


def render_next_briefing(session: Session, *, press: Press, worker: str, now: datetime) -> Briefing | None:
    """Claim one queued render job and publish its briefing; None when nothing is queued.

    A failure is recorded on the briefing and the job (never raised): the office reads it and may retry.
    """
    release_expired_render_jobs(session, now=now)
    job_id = claim_render_job(session, worker=worker, now=now)
    if job_id is None:
        return None
    job = session.get(RenderJob, job_id)
    briefing = session.get(Briefing, job.briefing_id)
    try:
        return publish_briefing(session, briefing, press=press, actor=RENDER_WORKER, now=now, job=job)
    except Conflict as exc:
        session.rollback()
        write_lock_first(session)
        job.status, job.error, job.finished_dt, job.lease_until = JobStatus.failed, exc.message, now, None
        session.commit()
        return briefing
    except Exception as exc:  # a bug must not leave the job running forever
        log.exception("rendering briefing %s failed", briefing.id)
        session.rollback()
        return _record_failure(session, briefing, job, f"生成 PDF 时发生内部错误（{type(exc).__name__}），"
                               "请稍后重试或联系系统管理员", actor=RENDER_WORKER, now=now)
