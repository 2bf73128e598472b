"""A unit's report for a task in a round: progress, values against targets, evidence files."""
from __future__ import annotations

import hashlib
import io
import os
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from tracker.accounts.permissions import (can_edit_report, can_report_for, can_view_report, is_unit_staff, require,
                                          require_visible, sees_everything)
from tracker.agencies.models import Unit
from tracker.audit import services as audit
from tracker.errors import Conflict, Invalid, NotFound
from tracker.reporting.models import (Attachment, ReportedValue, ReportingRound, ReportStatus, RoundAssignment,
                                      UnitReport)
from tracker.reporting.services.light_summary import refresh_task_lights
from tracker.tasks.models import Role, Target, Task
from tracker.time import local_date

MAX_PROGRESS_CHARS = 5000
#: a reported figure, written out in full, fits its column (15 integer digits, 6 decimals, sign and point)
MAX_VALUE_CHARS = 23
ZIP_MARKERS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
#: what evidence may be, decided by the bytes, not the name
ATTACHMENT_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSION_ALIASES = {"jpeg": "jpg"}


def scope_assignments(query, actor):
    """Limit a query over RoundAssignment to what `actor` may see: own unit, or tasks it leads."""
    if sees_everything(actor):
        return query
    if not is_unit_staff(actor):
        return query.where(sa.false())
    lead = sa.orm.aliased(RoundAssignment)
    leads_task = sa.exists().where(lead.round_id == RoundAssignment.round_id, lead.task_id == RoundAssignment.task_id,
                                   lead.unit_id == actor.unit_id, lead.role == Role.lead)
    return query.where(sa.or_(RoundAssignment.unit_id == actor.unit_id, leads_task))


def lead_unit_ids(session: Session, round_id: int, task_id: int) -> set[int]:
    return set(session.exec(select(RoundAssignment.unit_id).where(
        RoundAssignment.round_id == round_id, RoundAssignment.task_id == task_id,
        RoundAssignment.role == Role.lead)).all())


def lead_units(session: Session, round_id: int, task_id: int) -> list[Unit]:
    """The task's lead units in a round, as named (one query)."""
    return list(session.exec(select(Unit).join(RoundAssignment, RoundAssignment.unit_id == Unit.id).where(
        RoundAssignment.round_id == round_id, RoundAssignment.task_id == task_id,
        RoundAssignment.role == Role.lead).order_by(RoundAssignment.id)).all())


@dataclass
class AssignmentView:
    assignment: RoundAssignment
    round: ReportingRound
    task: Task
    report: UnitReport | None
    lead_unit_ids: set[int]
    values: dict[int, Decimal] = field(default_factory=dict)
    lead_units: list[Unit] = field(default_factory=list)

    @property
    def status(self) -> ReportStatus | None:
        return self.report.status if self.report else None


def get_assignment(session: Session, assignment_id: int, *, actor) -> AssignmentView:
    """Load what a unit owes for one task in one round, with its report.

    :raises NotFound: if it does not exist or lies outside the actor's scope
    """
    assignment = session.exec(
        select(RoundAssignment).where(RoundAssignment.id == assignment_id)
        .options(selectinload(RoundAssignment.unit), selectinload(RoundAssignment.via_group),
                 selectinload(RoundAssignment.task).selectinload(Task.targets),
                 selectinload(RoundAssignment.task).selectinload(Task.section),
                 selectinload(RoundAssignment.report).selectinload(UnitReport.values),
                 selectinload(RoundAssignment.report).selectinload(UnitReport.attachments))
        .execution_options(populate_existing=True)).first()
    if assignment is None:
        raise NotFound("没有这项报送任务")
    leads = lead_units(session, assignment.round_id, assignment.task_id)
    lead_ids = {unit.id for unit in leads}
    require_visible(can_view_report(actor, assignment.unit_id, lead_ids))
    report = assignment.report
    return AssignmentView(assignment=assignment, round=session.get(ReportingRound, assignment.round_id),
                          task=assignment.task, report=report, lead_unit_ids=lead_ids, lead_units=leads,
                          values={v.target_id: v.value for v in report.values} if report else {})


def save_report(session: Session, view: AssignmentView, *, progress_text: str, values: dict[int, Decimal | None],
                submit: bool, actor, now: datetime) -> UnitReport:
    """Save the unit's report as a draft, or submit it to the lead unit.

    Late is judged once, at the first submission, by its Beijing date against the due date.

    :raises PermissionDenied: if `actor` does not report for this unit
    :raises Conflict: if the round is closed or the report is waiting for review or accepted
    :raises Invalid: if submitted without progress text, or a value is for another task's target
    """
    require(can_report_for(actor, view.assignment.unit_id), "只有本单位的账号可以填报本单位的报告")
    if not view.round.is_open:
        raise Conflict("本次调度已关闭，报告不能再修改")
    if not can_edit_report(actor, view.assignment.unit_id, view.status.value if view.status else None, True):
        raise Conflict("报告已报送，正在等待牵头单位审核或已被采纳，不能修改")
    text = (progress_text or "").strip()
    if len(text) > MAX_PROGRESS_CHARS:
        raise Invalid("progress_text", f"工作进展不能超过 {MAX_PROGRESS_CHARS} 个字")
    if submit and not text:
        raise Invalid("progress_text", "报送前请填写工作进展")
    targets = {t.id: t for t in view.task.targets}
    if set(values) - set(targets):
        raise Invalid("values", "填报的数值不属于本任务的目标")
    for target_id, value in values.items():
        if value is not None and (not value.is_finite() or len(format(value, "f")) > MAX_VALUE_CHARS):
            raise Invalid("values", f"“{targets[target_id].measure}”的数值无效：请填写不超过 15 位整数、6 位小数的数字")
    report = view.report or _new_report(session, view, now)
    report.progress_text, report.updated_dt, report.updated_by_id = text, now, getattr(actor, "id", None)
    _write_values(session, report, values, targets)
    action, summary = "report.saved", f"{view.assignment.unit.name}保存了报告草稿"
    if submit:
        if report.submitted_dt is None:
            report.is_late = local_date(now) > view.round.due_date
        report.status, report.submitted_dt = ReportStatus.submitted, now
        action = "report.submitted"
        summary = f"{view.assignment.unit.name}报送了报告{'（迟报）' if report.is_late else ''}"
    audit.record(session, actor=actor, action=action, now=now, target=report, task_id=view.task.id,
                 round_id=view.round.id, summary=summary, details={"unit_id": view.assignment.unit_id})
    refresh_task_lights(session, view.round, [view.task.id], now=now)
    session.commit()
    return report


def _new_report(session: Session, view: AssignmentView, now: datetime) -> UnitReport:
    report = UnitReport(assignment_id=view.assignment.id, round_id=view.round.id, task_id=view.task.id,
                        unit_id=view.assignment.unit_id, updated_dt=now)
    session.add(report)
    session.flush()
    view.report = report
    return report


def _write_values(session: Session, report: UnitReport, values: dict[int, Decimal | None],
                  targets: dict[int, Target]) -> None:
    current = {v.target_id: v for v in session.exec(select(ReportedValue).where(ReportedValue.report_id == report.id))}
    for target_id, value in values.items():
        existing = current.get(target_id)
        if value is None:
            if existing is not None:
                session.delete(existing)
        elif existing is None:
            session.add(ReportedValue(report_id=report.id, target_id=target_id, value=value,
                                      unit=targets[target_id].unit))
        else:
            existing.value = value
    session.flush()


# --- evidence ------------------------------------------------------------------------------------

def sniff_type(data: bytes) -> str | None:
    """Return the evidence type the bytes really are (pdf, png, jpg, docx, xlsx), or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        return next((kind for kind, marker in ZIP_MARKERS.items() if marker in names), None)
    return None


def clean_filename(filename: str, kind: str) -> str:
    """Keep the (Chinese) name for display: no directories, no control characters, at most 120 characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = re.sub(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]", "", name).strip().lstrip(".")
    stem, _, ext = name.rpartition(".")
    stem = (stem if ext else name)[:100] or "佐证材料"
    return f"{stem}.{kind}"


def add_attachment(session: Session, view: AssignmentView, *, filename: str, data: bytes, storage_dir: Path,
                   max_bytes: int, actor, now: datetime) -> Attachment:
    """Store an evidence file under a generated name; the database row is written only if the file is whole.

    :raises Invalid: for a file too large, of a type not allowed, or whose name says another type;
        or when the disk is full (nothing is kept)
    """
    require(can_report_for(actor, view.assignment.unit_id), "只有本单位的账号可以上传本单位的佐证材料")
    if not view.round.is_open or not can_edit_report(actor, view.assignment.unit_id,
                                                     view.status.value if view.status else None, True):
        raise Conflict("报告已报送或调度已关闭，不能再添加佐证材料")
    if not data:
        raise Invalid("file", "文件是空的")
    if len(data) > max_bytes:
        raise Invalid("file", f"文件超过 {max_bytes // (1024 * 1024)} MB 的上限")
    kind = sniff_type(data)
    if kind is None:
        raise Invalid("file", "只接受 PDF、Word（.docx）、Excel（.xlsx）、JPG 和 PNG 文件，且文件内容须与类型相符")
    written_ext = (filename or "").rpartition(".")[2].lower()
    if EXTENSION_ALIASES.get(written_ext, written_ext) != kind:
        raise Invalid("file", f"文件名的扩展名与内容不符（内容是 {kind.upper()} 文件）")
    stored_name = f"{now:%Y/%m}/{uuid.uuid4().hex}"
    path = Path(storage_dir) / "attachments" / stored_name
    _write_whole(path, data)
    try:
        report = view.report or _new_report(session, view, now)
        attachment = Attachment(report_id=report.id, original_name=clean_filename(filename, kind),
                                stored_name=stored_name, content_type=ATTACHMENT_TYPES[kind], size_bytes=len(data),
                                sha256=hashlib.sha256(data).hexdigest(), uploaded_dt=now,
                                uploaded_by_id=getattr(actor, "id", None))
        session.add(attachment)
        report.updated_dt = now
        audit.record(session, actor=actor, action="attachment.added", now=now, target=attachment,
                     task_id=view.task.id, round_id=view.round.id,
                     summary=f"{view.assignment.unit.name}上传了佐证材料“{attachment.original_name}”")
        session.commit()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return attachment


def _write_whole(path: Path, data: bytes) -> None:
    """Write to a temporary file and rename, so a reader never sees half a file.

    :raises Invalid: if the disk is full or not writable (the temporary file is removed)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.part")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise Invalid("file", "服务器存储空间不足或不可写，文件没有保存，请联系市政府办公室督查科") from exc


def remove_attachment(session: Session, view: AssignmentView, attachment_id: int, *, storage_dir: Path, actor,
                      now: datetime) -> None:
    """Remove an evidence file from a report that is still being written."""
    require(can_report_for(actor, view.assignment.unit_id))
    if not view.round.is_open or not can_edit_report(actor, view.assignment.unit_id,
                                                     view.status.value if view.status else None, True):
        raise Conflict("报告已报送或调度已关闭，不能再删除佐证材料")
    attachment = next((a for a in (view.report.attachments if view.report else []) if a.id == attachment_id), None)
    if attachment is None:
        raise NotFound("没有这个附件")
    stored = Path(storage_dir) / "attachments" / attachment.stored_name
    audit.record(session, actor=actor, action="attachment.removed", now=now, task_id=view.task.id,
                 round_id=view.round.id, summary=f"删除了佐证材料“{attachment.original_name}”")
    session.delete(attachment)
    session.commit()
    stored.unlink(missing_ok=True)


def attachment_file(session: Session, attachment_id: int, *, storage_dir: Path, actor) -> tuple[Attachment, Path]:
    """Return an evidence file the actor may see, and where it lies.

    :raises NotFound: if it does not exist, lies outside the actor's scope, or its file is gone
    """
    row = session.exec(select(Attachment, UnitReport).join(UnitReport, UnitReport.id == Attachment.report_id)
                       .where(Attachment.id == attachment_id)).first()
    if row is None:
        raise NotFound("没有这个附件")
    attachment, report = row
    require_visible(can_view_report(actor, report.unit_id, lead_unit_ids(session, report.round_id, report.task_id)))
    path = Path(storage_dir) / "attachments" / attachment.stored_name
    if not path.is_file():
        raise NotFound("附件文件已不存在")
    return attachment, path
