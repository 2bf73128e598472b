"""Unit contacts — the people who receive reminder emails: kept one by one, or imported from a sheet.

An import file is .xlsx or .csv (UTF-8 with or without BOM, or GB18030) with a header row
`unit,name,email,phone` or `单位,姓名,电子邮箱,电话` (邮箱 is accepted too). It is all or nothing:
every problem is collected with its line number and nothing is written unless there are none.
For each unit named in the file, its contacts become exactly the file's rows.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from tracker.accounts.permissions import can_import_contacts, can_manage_units, require
from tracker.agencies.models import Contact, Unit
from tracker.agencies.edits import commit_unit_change
from tracker.agencies.services import NameResolver
from tracker.audit import services as audit
from tracker.errors import Invalid, InvalidFile, NotFound

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_MAX, EMAIL_MAX, PHONE_MAX = 80, 200, 40

#: header words, lower-cased and stripped, and the column each names
HEADER_WORDS = {
    "unit": "unit", "单位": "unit", "单位名称": "unit",
    "name": "name", "姓名": "name", "联系人": "name",
    "email": "email", "e-mail": "email", "电子邮箱": "email", "邮箱": "email", "电子邮件": "email",
    "phone": "phone", "电话": "phone", "联系电话": "phone", "手机": "phone",
}
REQUIRED_COLUMNS = ("unit", "name", "email")
HEADER_HINT = "第一行应为表头“单位,姓名,电子邮箱,电话”（或 unit,name,email,phone；电话一列可以没有）"


# --- one contact at a time -------------------------------------------------------------------------

@dataclass
class ContactFields:
    """What the office may set on a contact: an explicit list, so nothing else can be assigned."""

    name: str
    email: str
    phone: str | None = None


def list_contacts(session: Session, unit_id: int) -> list[Contact]:
    return list(session.exec(select(Contact).where(Contact.unit_id == unit_id).order_by(Contact.name, Contact.id)))


def get_contact(session: Session, unit_id: int, contact_id: int) -> Contact:
    """:raises NotFound: if the unit has no such contact"""
    contact = session.exec(select(Contact).where(Contact.id == contact_id, Contact.unit_id == unit_id)
                           .options(selectinload(Contact.unit))).first()
    if contact is None:
        raise NotFound("该单位没有这个联系人")
    return contact


def _clean(fields: ContactFields) -> ContactFields:
    return ContactFields(name=(fields.name or "").strip(), email=(fields.email or "").strip().lower(),
                         phone=(fields.phone or "").strip() or None)


def _validate(session: Session, unit_id: int, fields: ContactFields, *, contact_id: int | None) -> None:
    if not fields.name:
        raise Invalid("name", "请填写联系人姓名")
    if len(fields.name) > NAME_MAX:
        raise Invalid("name", f"姓名不能超过 {NAME_MAX} 个字符")
    if len(fields.email) > EMAIL_MAX or not EMAIL_RE.match(fields.email):
        raise Invalid("email", "请填写有效的电子邮箱地址")
    if fields.phone and len(fields.phone) > PHONE_MAX:
        raise Invalid("phone", f"电话不能超过 {PHONE_MAX} 个字符")
    taken = session.exec(select(Contact.id).where(Contact.unit_id == unit_id, Contact.email == fields.email,
                                                  Contact.id != (contact_id or 0))).first()
    if taken is not None:
        raise Invalid("email", "本单位已有使用这个邮箱的联系人")


def add_contact(session: Session, unit: Unit, *, fields: ContactFields, actor, now: datetime) -> Contact:
    """Add a person who receives the unit's reminders.

    :raises PermissionDenied: unless `actor` manages units
    :raises Invalid: for a blank name, a malformed email, an email the unit already has
    """
    require(can_manage_units(actor))
    fields = _clean(fields)
    _validate(session, unit.id, fields, contact_id=None)
    contact = Contact(unit_id=unit.id, name=fields.name, email=fields.email, phone=fields.phone, updated_dt=now)
    session.add(contact)
    commit_unit_change(session, unit, f"为单位“{unit.name}”添加联系人{fields.name}（{fields.email}）",
                       actor=actor, now=now)
    return contact


def update_contact(session: Session, contact: Contact, *, fields: ContactFields, actor, now: datetime) -> Contact:
    """Change a contact's name, email or phone (`contact.unit` must be loaded, as `get_contact` does).

    :raises PermissionDenied: unless `actor` manages units
    :raises Invalid: for a blank name, a malformed email, an email the unit already has
    """
    require(can_manage_units(actor))
    fields = _clean(fields)
    _validate(session, contact.unit_id, fields, contact_id=contact.id)
    contact.name, contact.email, contact.phone, contact.updated_dt = fields.name, fields.email, fields.phone, now
    commit_unit_change(session, contact.unit, f"修改单位“{contact.unit.name}”的联系人{fields.name}（{fields.email}）",
                       actor=actor, now=now)
    return contact


def remove_contact(session: Session, contact: Contact, *, actor, now: datetime) -> None:
    """Remove a contact: they receive no more reminders (`contact.unit` must be loaded).

    :raises PermissionDenied: unless `actor` manages units
    """
    require(can_manage_units(actor))
    unit = contact.unit
    session.delete(contact)
    commit_unit_change(session, unit, f"删除单位“{unit.name}”的联系人{contact.name}（{contact.email}）",
                       actor=actor, now=now)


# --- importing a sheet -----------------------------------------------------------------------------

@dataclass
class ContactsImportResult:
    filename: str
    unit_count: int
    added: int
    updated: int
    removed: int
    unchanged: int

    def summary(self) -> str:
        return (f"已导入联系人：涉及 {self.unit_count} 个单位，新增 {self.added} 人，更新 {self.updated} 人，"
                f"删除 {self.removed} 人，未变 {self.unchanged} 人")


@dataclass
class _Row:
    line: int
    unit: Unit
    name: str
    email: str
    phone: str | None


def import_contacts(session: Session, data: bytes, *, filename: str, actor, now: datetime) -> ContactsImportResult:
    """Replace the contacts of every unit the file names by the file's rows.

    :raises PermissionDenied: unless `actor` may import contacts
    :raises InvalidFile: listing every problem as (line, message) — unreadable file, missing header,
        unknown unit, missing name, malformed email, a unit and email given twice; nothing is written
    """
    require(can_import_contacts(actor))
    sheet = read_sheet(data, filename, find_columns=_header, hint=HEADER_HINT)
    rows = _check_rows(sheet, NameResolver.load(session))
    unit_ids = sorted({row.unit.id for row in rows})
    existing: dict[tuple[int, str], Contact] = {}
    stale: list[Contact] = []
    for contact in session.exec(select(Contact).where(Contact.unit_id.in_(unit_ids))):
        key = (contact.unit_id, contact.email.lower())
        if key in existing:
            stale.append(contact)  # two spellings of one address: keep one
        else:
            existing[key] = contact
    matched = [(row, existing.pop((row.unit.id, row.email), None)) for row in rows]
    removed = [*existing.values(), *stale]
    for contact in removed:
        session.delete(contact)
    session.flush()  # deletes first, so an address that moves between rows never meets itself
    added = updated = unchanged = 0
    for row, contact in matched:
        if contact is None:
            session.add(Contact(unit_id=row.unit.id, name=row.name, email=row.email, phone=row.phone, updated_dt=now))
            added += 1
        elif (contact.name, contact.email, contact.phone) != (row.name, row.email, row.phone):
            contact.name, contact.email, contact.phone, contact.updated_dt = row.name, row.email, row.phone, now
            updated += 1
        else:
            unchanged += 1
    result = ContactsImportResult(filename=filename, unit_count=len(unit_ids), added=added, updated=updated,
                                  removed=len(removed), unchanged=unchanged)
    audit.record(session, actor=actor, action="contacts.imported", now=now,
                 summary=f"从“{filename}”{result.summary()}",
                 details={"filename": filename, "units": len(unit_ids), "added": added, "updated": updated,
                          "removed": len(removed), "unchanged": unchanged})
    session.commit()
    return result


@dataclass
class Sheet:
    """An uploaded sheet past its header: where each known column is, and the lines under it."""

    columns: dict[str, int]
    lines: list[tuple[int, list[str]]]
    first_lines: dict = field(default_factory=dict)

    def earlier_line(self, key, line: int) -> int | None:
        """The line that first had `key` (a sheet may hold each key once), or None when `line` is the first."""
        if key in self.first_lines:
            return self.first_lines[key]
        self.first_lines[key] = line
        return None

    def cell(self, cells: list[str], name: str) -> str:
        """The line's cell in column `name`, stripped; "" when the column is absent or the line is short."""
        index = self.columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""


def read_sheet(data: bytes, filename: str, *, find_columns, hint: str) -> Sheet:
    """Read an uploaded sheet and find its header with `find_columns(cells)` (None when required ones are missing).

    :raises InvalidFile: for an unreadable or empty file, or a header without the required columns, with `hint`
    """
    lines = read_rows(data, filename)
    if not lines:
        raise InvalidFile([(None, f"文件中没有内容：{hint}")])
    header_line, header_cells = lines[0]
    columns = find_columns(header_cells)
    if columns is None:
        raise InvalidFile([(header_line, f"缺少表头：{hint}")])
    return Sheet(columns, lines[1:])


def read_rows(data: bytes, filename: str) -> list[tuple[int, list[str]]]:
    """Return the file's non-blank rows as (line number, cells as text).

    :raises InvalidFile: if the file is neither a readable .xlsx nor .csv text
    """
    lower = (filename or "").lower()
    if lower.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _xlsx_rows(data)
    if lower.endswith((".xls", ".et", ".numbers", ".ods")):
        raise InvalidFile([(None, "只接受 .xlsx 或 .csv 文件：请在表格软件中“另存为” .xlsx 或 CSV")])
    return _csv_rows(data)


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    if _unpacked_size(data) > MAX_UNPACKED_BYTES:
        raise InvalidFile([(None, f"这个 .xlsx 文件解压后超过 {MAX_UNPACKED_BYTES // (1024 * 1024)} MB，"
                                  "请只保留需要导入的工作表和内容后重试")])
    unreadable = InvalidFile([(None, "无法读取这个 .xlsx 文件，请确认它是未加密的 Excel 工作簿")])
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        # a damaged or encrypted workbook, or another zip file (a .docx) named .xlsx: zipfile, zlib, XML and
        # openpyxl each fail their own way (InvalidFileException, BadZipFile, NotImplementedError, ParseError …)
        raise unreadable from exc
    try:
        if not workbook.worksheets:
            raise InvalidFile([(None, "这个 .xlsx 文件中没有工作表")])
        sheet = workbook.worksheets[0]
        # the sheet's declared <dimension> may claim 1,048,576 rows × 16,384 columns for one cell: every row
        # would be padded to it (a ten-kilobyte file keeping a worker busy for hours); read the cells that exist
        sheet.reset_dimensions()
        rows = []
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_cell_text(value) for value in values]
                if any(cells):
                    rows.append((number, cells))
        except Exception as exc:  # a read-only sheet is parsed only now: a damaged one fails here
            raise unreadable from exc
        return rows
    finally:
        workbook.close()


#: what a workbook may unpack to (a zip bomb declares gigabytes in a few kilobytes)
MAX_UNPACKED_BYTES = 100 * 1024 * 1024


def _unpacked_size(data: bytes) -> int:
    """The sizes a zip's entries declare (Python's zipfile never inflates an entry beyond its declared size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return 0  # not a zip, or one zipfile cannot open ("zip file version 6.4"): load_workbook says so in Chinese


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed into a number cell
    return str(value).strip()


def _csv_rows(data: bytes) -> list[tuple[int, list[str]]]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[:utf8_error.start].count(b"\n") + 1
            raise InvalidFile([(line, "文件编码无法识别：请另存为 UTF-8 或 GB18030 编码的 CSV 文件，或 .xlsx 文件")])
    if "\x00" in text:
        raise InvalidFile([(None, "这不是文本格式的 CSV 文件：只接受 .xlsx 或 .csv 文件")])
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        for cells in reader:
            cells = [cell.strip() for cell in cells]
            if any(cells):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise InvalidFile([(reader.line_num, f"CSV 格式有误：{exc}")]) from exc
    return rows


def _header(cells: list[str]) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = HEADER_WORDS.get(cell.strip().lower().lstrip("\ufeff"))
        if key and key not in columns:
            columns[key] = index
    return columns if all(name in columns for name in REQUIRED_COLUMNS) else None


def _check_rows(sheet: Sheet, resolver: NameResolver) -> list[_Row]:
    problems: list[tuple[int | None, str]] = []
    rows: list[_Row] = []
    cell = sheet.cell

    for line, cells in sheet.lines:
        unit_name, name, email = cell(cells, "unit"), cell(cells, "name"), cell(cells, "email").lower()
        phone = cell(cells, "phone") or None
        unit = resolver.unit(unit_name) if unit_name else None
        found = len(problems)
        if not unit_name:
            problems.append((line, "缺少单位名称"))
        elif unit is None:
            problems.append((line, f"单位“{unit_name}”不在单位目录中（请检查名称或先添加简称）"))
        if not name:
            problems.append((line, "缺少联系人姓名"))
        elif len(name) > NAME_MAX:
            problems.append((line, f"姓名不能超过 {NAME_MAX} 个字符"))
        if not email:
            problems.append((line, "缺少电子邮箱"))
        elif len(email) > EMAIL_MAX or not EMAIL_RE.match(email):
            problems.append((line, f"电子邮箱“{email}”格式不正确"))
        if phone and len(phone) > PHONE_MAX:
            problems.append((line, f"电话不能超过 {PHONE_MAX} 个字符"))
        if unit is not None and email and (earlier := sheet.earlier_line((unit.id, email), line)):
            problems.append((line, f"与第 {earlier} 行重复：同一单位的同一邮箱只能出现一次"))
        if len(problems) == found:
            rows.append(_Row(line=line, unit=unit, name=name, email=email, phone=phone))
    if problems:
        raise InvalidFile(problems)
    if not rows:
        raise InvalidFile([(None, "文件中只有表头，没有联系人")])
    return rows
