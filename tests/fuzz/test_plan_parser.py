"""Fuzz the plan parser: whatever the bytes, it answers with a plan or a PlanParseError naming the line.

No database here. The documented failure is `PlanParseError`, whose problems each carry a line
number of the file (or None for a file that cannot be opened at all, as its only problem) and a
message in Chinese; anything else raised is a crash.
"""
from __future__ import annotations

from collections import Counter

from hypothesis import given, strategies as st

from tests.fuzz import strategies as fz
from tests.fuzz.conftest import check_problems, examples
from tracker.tasks.parsing import PlanParseError, parse_plan, read_document


def source_lines(text: str) -> int:
    """How many lines the parser numbers (it splits on \\n after folding \\r\\n and \\r)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


def parse_or_refuse(text: str, *, first_named_leads: bool = True):
    """The parse, or None after checking the refusal is the documented one."""
    try:
        plan = parse_plan(text, first_named_leads=first_named_leads)
    except PlanParseError as refused:
        check_problems(refused.problems, lines=source_lines(text))
        assert all(line is not None for line, _ in refused.problems), refused.problems
        return None
    lines = source_lines(text)
    keys = Counter(task.key for task in plan.tasks)
    assert all(count == 1 for count in keys.values()), f"task keys twice: {keys.most_common(3)}"
    assert plan.tasks and plan.title
    for task in plan.tasks:
        assert 1 <= task.line <= lines
        assert all(owner.role in ("lead", "responsible") for owner in task.owners)
    for warning in plan.warnings:
        assert warning.line is None or 1 <= warning.line <= lines
        assert fz.CHINESE_RE.search(warning.message)
    return plan


def read_or_refuse(data: bytes, filename: str) -> str | None:
    try:
        return read_document(data, filename)
    except PlanParseError as refused:
        check_problems(refused.problems, lines=data.count(b"\n") + 1)
        return None


@examples(200)
@given(fz.mutated_documents(), st.booleans())
def test_a_damaged_real_plan_is_parsed_or_refused_naming_a_line(text, first_named_leads):
    parse_or_refuse(text, first_named_leads=first_named_leads)


@examples(100)
@given(fz.built_documents())
def test_a_document_built_from_the_genres_pieces_is_parsed_or_refused_naming_a_line(text):
    parse_or_refuse(text)


@examples(120)
@given(st.one_of(st.text(max_size=400), st.text(alphabet=st.characters(codec="utf-8"), max_size=400), fz.plan_texts))
def test_random_text_is_parsed_or_refused_naming_a_line(text):
    parse_or_refuse(text)


@examples(100)
@given(fz.annotations(), fz.annotations(), st.sampled_from(["（一）", "1.", "一、", "（二）"]))
def test_any_annotation_is_read_or_refused_naming_its_line(first, second, label):
    text = f"测试方案\n\n一、重点任务\n\n{label}推进节能改造。{first}\n到2025年，下降12%。{second}\n"
    parse_or_refuse(text)


@examples(100)
@given(st.lists(fz.table_rows(), min_size=1, max_size=3), st.sampled_from(["附件 1", "附件2", "附件：", "附件"]))
def test_any_annex_table_is_read_with_flags_never_a_crash(tables, heading):
    body = "测试方案\n\n一、重点任务\n\n（一）推进节能改造。（牵头单位：市发展改革委）\n"
    parse_or_refuse(body + "\n".join(f"{heading}\n标题\n{table}" for table in tables))


@examples(120)
@given(fz.plan_files, fz.FILENAMES)
def test_any_uploaded_file_is_read_and_parsed_or_refused_naming_a_line(data, filename):
    text = read_or_refuse(data, filename)
    if text is not None:
        parse_or_refuse(text)


@examples(60)
@given(st.one_of(fz.docx_files(), fz.damaged_archives(fz.docx_files())))
def test_a_real_or_damaged_docx_is_read_or_refused(data):
    text = read_or_refuse(data, "plan.docx")
    if text is not None:
        parse_or_refuse(text)


@examples(60)
@given(fz.mutated_documents(), st.sampled_from(fz.ENCODINGS))
def test_a_plan_in_any_encoding_is_read_as_itself_or_refused(text, encoding):
    data = text.encode(encoding, errors="replace")
    read = read_or_refuse(data, "plan.txt")
    if read is not None:
        parse_or_refuse(read)
        if encoding in ("utf-8", "utf-8-sig"):
            assert read in (text, text.removeprefix("\ufeff"))
