"""A round's ledger (台账) as an .xlsx workbook: one row per assignment, Chinese headers."""
from __future__ import annotations

from datetime import datetime

import re
from typing import BinaryIO

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from sqlmodel import Session, select

from tracker.audit import services as audit
from tracker.accounts.permissions import can_export_ledger, require
from tracker.agencies.models import Unit
from tracker.reporting.models import ReportedValue, ReportingRound, RoundAssignment, UnitReport
from tracker.tasks.models import Role, Section, Target, Task, TaskAssignment, TaskLevel
from tracker.time import local_date

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ("序号", "任务", "牵头单位", "单位", "角色", "状态", "报送日期", "是否迟报", "工作进展", "填报数值")
WIDTHS = (6, 40, 24, 20, 10, 10, 12, 10, 60, 40)
NOT_STARTED = "未开始"
#: what a spreadsheet may read as the start of a formula (CSV/formula injection, OWASP)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str | None) -> str:
    """Text a spreadsheet shows as written: no characters Excel refuses, never the start of a formula."""
    text = ILLEGAL_CHARACTERS_RE.sub("", value or "")
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def ledger_filename(reporting_round: ReportingRound) -> str:
    """The download's (Chinese) name: 2025年第三季度调度台账.xlsx, without path or control characters."""
    label = re.sub(r'[\x00-\x1f\x7f\\/:*?"<>|]+', "", reporting_round.label).strip(" .") or "调度"
    return f"{label}台账.xlsx"


def write_ledger(session: Session, reporting_round: ReportingRound, *, actor, output: str | BinaryIO,
                 now: datetime) -> int:
    """Write the round's ledger to `output` (a path or a binary file) and return how many rows it has.

    Rows follow the plan: tasks in document order, lead units first, then units as the clause names them.

    Three queries however large the round: assignments with their reports, lead units, reported values.

    :raises PermissionDenied: unless `actor` is the office or a coordinator
    """
    require(can_export_ledger(actor), "只有督查科和统筹单位可以导出台账")
    rows = session.exec(
        select(Task.level, Task.label, Section.label, Task.title, RoundAssignment.task_id, Unit.name,
               RoundAssignment.role, UnitReport.id, UnitReport.status, UnitReport.submitted_dt, UnitReport.is_late,
               UnitReport.progress_text)
        .join(Task, Task.id == RoundAssignment.task_id)
        .outerjoin(Section, Section.id == Task.section_id)
        .join(Unit, Unit.id == RoundAssignment.unit_id)
        .outerjoin(UnitReport, UnitReport.assignment_id == RoundAssignment.id)
        .outerjoin(TaskAssignment, sa.and_(TaskAssignment.task_id == RoundAssignment.task_id,
                                           TaskAssignment.unit_id == RoundAssignment.unit_id))
        .where(RoundAssignment.round_id == reporting_round.id)
        .order_by(Task.position, Task.id, sa.case((RoundAssignment.role == Role.lead, 0), else_=1),
                  TaskAssignment.position.is_(None), TaskAssignment.position, Unit.name, RoundAssignment.id)).all()
    leads: dict[int, list[str]] = {}
    for task_id, name in session.exec(
            select(RoundAssignment.task_id, Unit.name).join(Unit, Unit.id == RoundAssignment.unit_id)
            .where(RoundAssignment.round_id == reporting_round.id, RoundAssignment.role == Role.lead)
            .order_by(RoundAssignment.task_id, RoundAssignment.id)).all():
        leads.setdefault(task_id, []).append(name)
    values: dict[int, list[str]] = {}
    for report_id, measure, value, unit in session.exec(
            select(ReportedValue.report_id, Target.measure, ReportedValue.value, ReportedValue.unit)
            .join(Target, Target.id == ReportedValue.target_id)
            .join(UnitReport, UnitReport.id == ReportedValue.report_id)
            .where(UnitReport.round_id == reporting_round.id)
            .order_by(ReportedValue.report_id, Target.position, Target.id)).all():
        values.setdefault(report_id, []).append(f"{measure}：{format(value, 'f')}{' ' + unit if unit else ''}")

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="台账")
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_header(sheet, text) for text in HEADERS])
    wrap = Alignment(wrap_text=True, vertical="top")
    for number, (level, label, section_label, title, task_id, unit_name, role, report_id, status,
                 submitted_dt, is_late, progress_text) in enumerate(rows, start=1):
        prefix = section_label if section_label and level is not TaskLevel.section else ""
        submitted = WriteOnlyCell(sheet, value=local_date(submitted_dt) if submitted_dt else None)
        submitted.number_format = "yyyy-mm-dd"
        progress = WriteOnlyCell(sheet, value=safe_text(progress_text))
        progress.alignment = wrap
        sheet.append([
            number,
            safe_text(f"{prefix}{label} {title}"),
            safe_text("、".join(leads.get(task_id, []))),
            safe_text(unit_name),
            role.label,
            status.label if status else NOT_STARTED,
            submitted,
            "是" if is_late else "否",
            progress,
            safe_text("；".join(values.get(report_id, []))),
        ])
    workbook.save(output)
    audit.record(session, actor=actor, action="ledger.exported", now=now, target=reporting_round,
                 round_id=reporting_round.id, summary=f"导出“{reporting_round.label}”台账（{len(rows)} 行）")
    session.commit()
    return len(rows)


def _header(sheet, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = Font(bold=True)
    cell.fill = PatternFill("solid", fgColor="F0F1F4")
    return cell
