"""Every crash the importer fuzzing found, as the input that crashed and the answer it gets now.

Each test names the crash it pins (exception, where it was raised) and checks the documented
answer instead: PlanParseError / InvalidFile / Invalid naming the line in Chinese, or an import
that succeeds and can be repeated. The archive inputs are built here byte for byte; for those, the
test first shows that the library itself still fails on them, so the test keeps proving something.
"""
from __future__ import annotations

import io
import struct
import zipfile
from decimal import Decimal

import pytest
from docx import Document
from openpyxl import Workbook, load_workbook
from sqlmodel import func, select

from tests.conftest import HOHHOT, NOW, ROOT
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies import contacts
from tracker.agencies.models import Unit, UnitAlias, UnitGroup
from tracker.agencies.services import read_directory
from tracker.errors import Invalid, InvalidFile
from tracker.tasks import importer, plan_writes
from tracker.tasks.models import AreaTarget, Indicator, Plan, Role, Target, Task, TaskAssignment, TaskGroup
from tracker.tasks.parsing import PlanParseError, parse_plan, read_document

DIRECTORY = read_directory(ROOT / "seed" / "hohhot-units.json")
CLEAN = HOHHOT.read_text(encoding="utf-8")
TABLES = (Plan, Task, TaskAssignment, TaskGroup, Target, AreaTarget, Indicator, Unit, UnitAlias, UnitGroup)


def row_counts(session) -> dict[str, int]:
    return {table.__tablename__: session.exec(select(func.count()).select_from(table)).one() for table in TABLES}


def import_text(session, text: str, *, slug="fuzz", filename="plan.txt", directory=DIRECTORY):
    return importer.import_plan(session, text.encode("utf-8"), filename=filename, slug=slug, directory=directory,
                                actor=COMMAND_LINE, now=NOW)


def small_plan(annotation="（牵头单位：市发展改革委；责任单位：市统计局）", *, clause="（一）推进节能改造。", annex=""):
    return f"测试方案\n\n一、重点任务\n\n{clause}{annotation}\n{annex}"


def line_of(text: str, fragment: str) -> int:
    return text[:text.index(fragment)].count("\n") + 1


# --- the plan parser ---------------------------------------------------------------------------------

def test_a_clause_line_given_twice_is_refused_naming_the_repeat_and_nothing_is_written(session):
    # crash: sqlalchemy IntegrityError, UNIQUE tasks(plan_id, key) — both lines became task 2.2
    line = next(l for l in CLEAN.split("\n") if l.startswith("（三）坚决遏制"))   # clause 3.3, annotation included
    text = CLEAN.replace(line, f"{line}\n\n{line}", 1)
    with pytest.raises(PlanParseError) as refused:
        parse_plan(text)
    first = line_of(CLEAN, line)
    assert refused.value.problems == [(first + 2, f"条款编号“（三）”与第 {first} 行的条款编号重复，请核对原文的编号")]
    before = row_counts(session)
    with pytest.raises(PlanParseError):
        import_text(session, text)
    assert row_counts(session) == before


INDICATORS = "附件 2\n\n主要指标\n\n指标\t单位\t2020年实际值\t2025年目标值\t变化幅度/变化率%\n能源\t\t\t\t\n"


@pytest.mark.parametrize("change", ["27.02百百百百百、/〔-19.7%〕", "1,234", "51万吨"])
def test_a_change_written_with_a_unit_or_thousands_commas_is_checked_not_a_crash(change):
    # crash: decimal.InvalidOperation in annexes._check_change, Decimal("1,234") of the text as written
    plan = parse_plan(small_plan(annex=INDICATORS + f"单位GDP能耗\t%\t100\t80\t{change}\n"))
    [indicator] = plan.indicators
    assert indicator.change == change
    assert any("不一致" in flag for flag in indicator.flags)    # stated −20 is none of these


def test_a_change_rate_of_a_figure_beyond_28_digits_is_flagged_not_a_crash():
    # crash: decimal.InvalidOperation in annexes._check_change, Decimal.quantize beyond the context's 28 digits
    plan = parse_plan(small_plan(annex=INDICATORS + f"单位GDP能耗\t%\t1\t{'9' * 50}\t〔5%〕\n"))
    [flag] = plan.indicators[0].flags
    assert flag == f"变化率 5% 与由2020年实际值和2025年目标值算得的 1{'0' * 52}.00% 不一致"


def test_a_document_number_of_sixty_digits_is_no_document_number(session):
    # crash on PostgreSQL: StringDataRightTruncation, plans.doc_number is 80 characters
    text = "测试方案\n市政发〔2022〕" + "1" * 60 + "号\n一、重点任务\n（一）推进节能改造。（牵头单位：市发展改革委）\n"
    assert parse_plan(text).doc_number is None
    import_text(session, text)
    assert session.exec(select(Plan.doc_number).where(Plan.slug == "fuzz")).one() is None


# --- .docx and .xlsx archives ------------------------------------------------------------------------

def _docx() -> bytes:
    document = Document()
    document.add_paragraph("一、重点任务")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xlsx() -> bytes:
    workbook = Workbook()
    workbook.active.append(["单位", "姓名", "电子邮箱"])
    workbook.active.append(["市统计局", "王芳", "wf@example.gov.cn"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, name: str, body: bytes) -> bytes:
    """The archive with one member's content replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.namelist():
            target.writestr(member, body if member == name else source.read(member))
    return buffer.getvalue()


def central_field(data: bytes, offset: int, value: int) -> bytes:
    """The archive with a 2-byte field of its first central directory entry set (6: version, 8: flags)."""
    at = data.index(b"PK\x01\x02") + offset
    return data[:at] + struct.pack("<H", value) + data[at + 2:]


def bad_deflate(data: bytes, name: str) -> bytes:
    """The archive with the compressed bytes of one member replaced by a reserved deflate block type."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    return data[:start] + b"\xff" * info.compress_size + data[start + info.compress_size:]


DOCX_CRASHES = {
    "document.xml without a body: AttributeError": lambda d: rezip(d, "word/document.xml", b"<?xml version='1.0'?><root/>"),
    "relationships of another shape: AttributeError": lambda d: rezip(d, "_rels/.rels", b"<?xml version='1.0'?><root/>"),
    "content types of another shape: AttributeError": lambda d: rezip(d, "[Content_Types].xml", b"<root/>"),
    "document.xml not XML: lxml XMLSyntaxError": lambda d: rezip(d, "word/document.xml", b"<"),
    "zip version 7.1: NotImplementedError": lambda d: central_field(d, 6, 71),
    "strong encryption flag: NotImplementedError": lambda d: central_field(d, 8, 0x41),
    "broken deflate stream: zlib.error": lambda d: bad_deflate(d, "word/document.xml"),
}


@pytest.mark.parametrize("damage", DOCX_CRASHES.values(), ids=DOCX_CRASHES.keys())
def test_a_damaged_docx_is_refused_as_a_damaged_file(damage):
    data = damage(_docx())
    with pytest.raises(Exception) as library:
        Document(io.BytesIO(data)).element.body.iterchildren()
    assert not isinstance(library.value, (zipfile.BadZipFile, KeyError, ValueError))  # what was caught before
    with pytest.raises(PlanParseError) as refused:
        read_document(data, "plan.docx")
    [(line, message)] = refused.value.problems
    assert line is None and message.startswith("无法打开 .docx 文档：") and "文件可能已损坏" in message


XLSX_CRASHES = {
    "sheet not XML, read lazily: xml ParseError": lambda d: rezip(d, "xl/worksheets/sheet1.xml", b"<a><b></a>"),
    "zip version 6.4: NotImplementedError": lambda d: central_field(d, 6, 64),
    "broken deflate stream: zlib.error": lambda d: bad_deflate(d, "xl/worksheets/sheet1.xml"),
}


@pytest.mark.parametrize("damage", XLSX_CRASHES.values(), ids=XLSX_CRASHES.keys())
def test_a_damaged_xlsx_is_refused_in_chinese(damage):
    data = damage(_xlsx())
    with pytest.raises(Exception):
        list(load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0].iter_rows(values_only=True))
    with pytest.raises(InvalidFile) as refused:
        contacts.read_rows(data, "contacts.xlsx")
    assert refused.value.problems == [(None, "无法读取这个 .xlsx 文件，请确认它是未加密的 Excel 工作簿")]


# --- the plan import ---------------------------------------------------------------------------------

def test_a_unit_named_twice_under_two_of_its_names_carries_the_task_once(session):
    # crash: IntegrityError, UNIQUE task_assignments(task_id, unit_id) — 市发改委 is an alias of 市发展改革委
    import_text(session, small_plan("（牵头单位：市统计局；责任单位：市发展改革委、市发改委）"))
    task = session.exec(select(Task).where(Task.key == "1.1")).one()
    owners = session.exec(select(Unit.name, TaskAssignment.role).join(TaskAssignment)
                          .where(TaskAssignment.task_id == task.id).order_by(TaskAssignment.position)).all()
    assert [(name, role.value) for name, role in owners] == [("市统计局", "lead"), ("市发展改革委", "responsible")]


def test_an_alias_that_leads_makes_the_unit_lead_once():
    assert plan_writes._one_row_per_unit([(7, Role.responsible, False), (8, Role.responsible, False),
                                          (7, Role.lead, False)]) == [
        (7, Role.lead, False), (8, Role.responsible, False)]


def test_an_area_row_given_twice_is_imported_once_with_a_warning(session):
    # crash: IntegrityError, UNIQUE area_targets(plan_id, unit_id)
    row = next(l for l in CLEAN.split("\n") if l.startswith("新城区\t"))
    text = CLEAN.replace(row, f"{row}\n{row}", 1)
    result = import_text(session, text)
    first = line_of(CLEAN, row)
    assert f"第 {first + 1} 行：附件地区“新城区”与第 {first} 行是同一地区，此行未导入" in result.warnings
    assert session.exec(select(func.count()).select_from(AreaTarget)).one() == 12
    assert import_text(session, text + "\n").changed_tasks == []


def test_an_indicator_row_given_twice_is_imported_once_with_a_warning(session):
    # crash: IntegrityError, UNIQUE indicators(plan_id, sector, name)
    row = "单位GDP能耗\t%\t0\t0\t"
    text = small_plan(annex=INDICATORS + f"{row}\n{row}\n")
    first = line_of(text, row)
    result = import_text(session, text)
    assert f"第 {first + 1} 行：附件指标“单位GDP能耗”与第 {first} 行重复，此行未导入" in result.warnings
    assert session.exec(select(func.count()).select_from(Indicator)).one() == 1


def test_a_unit_that_carried_a_task_through_a_group_and_is_then_named_is_reimported(session):
    # crash on re-import: IntegrityError, UNIQUE task_assignments(task_id, unit_id) — 土左旗 carried 3.3
    # through 各旗县区 (carried forward); the new text names it, and its group row was still there
    import_text(session, CLEAN, slug="hohhot")
    old = "（**责任单位：**市发展改革委、工业和信息化局、生态环境局）"
    result = import_text(session, CLEAN.replace(old, old + "（土左旗负责）"), slug="hohhot")
    assert result.changed_tasks == ["3.3 坚决遏制高耗能高排放低水平项目盲目发展（条款文字、责任单位）"]
    task = session.exec(select(Task).where(Task.key == "3.3")).one()
    rows = session.exec(select(TaskAssignment.via_group_id).join(Unit)
                        .where(TaskAssignment.task_id == task.id, Unit.name == "土左旗")).all()
    assert rows == [None]
    again = import_text(session, CLEAN, slug="hohhot")   # and back: the group gives it the task again
    assert again.changed_tasks == ["3.3 坚决遏制高耗能高排放低水平项目盲目发展（条款文字、责任单位）"]
    assert session.exec(select(TaskAssignment.via_group_id).join(Unit)
                        .where(TaskAssignment.task_id == task.id, Unit.name == "土左旗")).one() is not None


LONG = "甲" * 130


@pytest.mark.parametrize("text, line, message", [
    (small_plan(f"（牵头单位：市{LONG}局）"), 5, f"单位名称“市{'甲' * 29}…”过长（132 个字符，最多 120 个），无法保存，请核对原文"),
    (small_plan(f"（责任单位：各{LONG * 2}）"), 5, None),
    (small_plan(clause=f"（一）到2025年，创建绿色工厂{'9' * 60}家。"), 5, f"目标值“{'9' * 30}…”过长（60 个字符，最多 48 个），"
                                                                     "无法保存，请核对原文"),
    ("测试方案\n\n" + "一" * 30 + "、任务\n\n（二）做事。（牵头单位：市发展改革委）\n", 3, None),
    ("测试方案\n\n一、任务\n\n（" + "二" * 30 + "）做事。（牵头单位：市发展改革委）\n", 5, None),
    (small_plan(annex="附件 1\n\n各地区目标\n\n地区\t基本目标\t激励目标\n" + LONG + "\t12\t13\n"), 11, None),
    (small_plan(annex=INDICATORS + f"{LONG * 2}\t%\t100\t80\t-20\n"), 12, None),
    (small_plan(annex=INDICATORS + f"单位GDP能耗\t%\t100\t80\t{'-20' * 30}\n"), 12, None),
])
def test_a_name_label_or_figure_longer_than_its_column_is_refused_naming_its_line(session, text, line, message):
    # crash on PostgreSQL: StringDataRightTruncation (units.name 120, unit_groups.name 200, targets.value 48,
    # sections.label and tasks.label 20, indicators.name 200, change_text 80); SQLite kept them whole
    before = row_counts(session)
    with pytest.raises(PlanParseError) as refused:
        import_text(session, text)
    [(found_line, found_message)] = refused.value.problems
    assert found_line == line and "过长" in found_message and "无法保存" in found_message
    assert message is None or found_message == message
    assert row_counts(session) == before


def test_a_file_name_longer_than_its_column_is_refused(session):
    # crash on PostgreSQL: StringDataRightTruncation, plans.source_filename and plan_imports.filename are 300
    with pytest.raises(Invalid) as refused:
        import_text(session, small_plan(), filename="计" * 297 + ".txt")
    assert refused.value.field == "filename" and refused.value.message == "文件名不能超过 300 个字符，请改短后重新上传"
    assert import_text(session, small_plan(), filename="计" * 296 + ".txt").is_new
