"""Damage the Hohhot plan the way PDF extraction does and check the parse is unchanged.

The baseline is the parse of the clean document. Each property applies one kind of damage at
random places (or all kinds together) and compares what a reader relies on: task keys and titles,
who carries each task (lead, responsible, groups, carried forward), the targets, the annex rows.
Line numbers are left out: inserted page breaks move them.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tracker.tasks.parsing import parse_plan
from tracker.tasks.parsing.repair import CJK, CJK_PUNCT, SECTION_RE, normalise_line, starts_structure

HOHHOT = Path(__file__).resolve().parents[2] / "seed" / "hohhot-energy-saving-2021-2025.txt"
CLEAN = HOHHOT.read_text(encoding="utf-8")
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CLAUSE_START_RE = re.compile(r"^[(（]\s*[一二三四五六七八九十]+\s*[)）]\s*")
#: a rest of line that opens with none of these cannot be a structural marker; the others are
#: checked with the parser's own starts_structure
MARKER_START = set("（(〇零一二两三四五六七八九十百附") | set("0123456789") | {chr(0xFF10 + i) for i in range(10)}
BARE_LABEL_RE = re.compile(r"[(（]\s*[一二三四五六七八九十]+\s*[)）][\s*]*")
LABEL_RE = re.compile(r"[(（]?(?:\*\*)?(?:牵头单位|责任单位)(?:\*\*)?[：:]?(?:\*\*)?")
CJK_CHAR_RE = re.compile(rf"[{CJK}{CJK_PUNCT}]")


def what_matters(plan):
    """The parse as a reader relies on it, without line numbers."""
    def targets(found):
        return [(t.measure, t.comparator, str(t.value), t.unit, t.deadline_year) for t in found]

    return {
        "title": plan.title,
        "years": (plan.start_year, plan.end_year),
        "tasks": [(t.key, t.label, t.title,
                   [(o.name, o.role, o.is_group, o.is_carried_forward) for o in t.owners],
                   targets(t.targets)) for t in plan.tasks],
        "headline": targets(plan.targets),
        "areas": [(a.area, str(a.basic_pct), str(a.incentive_pct), a.flags) for a in plan.area_targets],
        "indicators": [(i.sector, i.name, i.unit, str(i.baseline), str(i.target), i.change, i.flags)
                       for i in plan.indicators],
    }


BASELINE = what_matters(parse_plan(CLEAN))


def _insert(text: str, insertions: list[tuple[int, str]]) -> str:
    for offset, piece in sorted(insertions, reverse=True):
        text = text[:offset] + piece + text[offset:]
    return text


# --- where each kind of damage may fall -------------------------------------------------------

def page_break_offsets(text: str) -> list[int]:
    """Offsets strictly inside a paragraph where a page break can fall without changing its meaning.

    Left out, because the text alone could not tell such a break from a real paragraph end:
    - the start or end of a line (that is no break inside a paragraph);
    - right before a structural marker (（一） 一、 1. 附件 a document number or a date): the new
      line would open a new numbered part, which is what a reader of the damaged text would see too;
    - section headings (一、总体要求): a heading has no closing punctuation, so 一、总体 + 要求 reads
      as a heading followed by a paragraph;
    - table rows (lines with tabs): a row cut in two is two rows.
    """
    offsets, start = [], 0
    for line in text.split("\n"):
        normal = normalise_line(line)
        if normal and "\t" not in line and not SECTION_RE.match(normal):
            for cut in range(1, len(line)):
                prefix, rest = line[:cut], line[cut:]
                if not re.search(r"[^\s*]", prefix) or not re.search(r"[^\s*]", rest):
                    continue
                could_be_marker = len(rest) <= 40 or rest.lstrip(" \u3000\u00a0*-•·")[:1] in MARKER_START
                if could_be_marker and starts_structure(normalise_line(rest[:40])):
                    continue
                offsets.append(start + cut)
        start += len(line) + 1
    return offsets


def awkward(text: str, offsets: list[int]) -> list[int]:
    """The offsets right after punctuation or a clause label, or inside an annotation.

    There the repair has to decide whether a line ended its paragraph; sampling uniformly over
    thousands of offsets would seldom land on them.
    """
    annotation_spans = [(m.start(), m.end()) for m in re.finditer(r"[(（][^()（）]*单位[^()（）]*[)）]", text)]
    return [offset for offset in offsets
            if re.search(rf"[{CJK_PUNCT}:;,()]\**\s*$", text[max(0, offset - 3):offset])
            or BARE_LABEL_RE.fullmatch(text[text.rfind("\n", 0, offset) + 1:offset])
            or any(start < offset < end for start, end in annotation_spans)]


@functools.lru_cache(maxsize=4)
def break_places(text: str) -> tuple[list[int], list[int]]:
    offsets = page_break_offsets(text)
    return offsets, awkward(text, offsets)


def bold_spans(text: str) -> list[tuple[int, int]]:
    """Clause titles (（五）农牧业节能减排工程。) and annotation labels (（牵头单位：)."""
    spans, start = [], 0
    for line in text.split("\n"):
        if (match := CLAUSE_START_RE.match(line)) and "。" in line[match.end():]:
            spans.append((start + match.end(), start + line.index("。", match.end())))
        spans += [(start + m.start(), start + m.end()) for m in LABEL_RE.finditer(line)]
        start += len(line) + 1
    return spans


def space_offsets(text: str) -> list[int]:
    """Offsets beside a Chinese character or punctuation mark, where extraction leaves spaces."""
    return [i for i in range(1, len(text))
            if (CJK_CHAR_RE.match(text[i - 1]) or CJK_CHAR_RE.match(text[i]))
            and "\n" not in text[i - 1:i + 1]]


BRACKETS = {"（": "(", "）": ")", "(": "（", ")": "）"}


# --- strategies -------------------------------------------------------------------------------

@st.composite
def page_breaks(draw, text: str) -> str:
    anywhere, awkward_places = break_places(text)
    offsets = draw(st.lists(st.one_of(st.sampled_from(awkward_places), st.sampled_from(anywhere)),
                            min_size=1, max_size=12, unique=True))
    return _insert(text, [(o, "\n\n") for o in offsets])


@st.composite
def swapped_brackets(draw, text: str) -> str:
    positions = [i for i, ch in enumerate(text) if ch in BRACKETS]
    chosen = draw(st.sets(st.sampled_from(positions), min_size=1, max_size=len(positions)))
    return "".join(BRACKETS[ch] if i in chosen else ch for i, ch in enumerate(text))


@st.composite
def bold_markers(draw, text: str) -> str:
    spans = draw(st.lists(st.sampled_from(bold_spans(text)), min_size=1, max_size=10, unique=True))
    insertions = []
    for start, end in spans:
        left = draw(st.integers(start, end - 1))
        right = draw(st.integers(left + 1, end))
        insertions += [(left, "**"), (right, "**")]
    return _insert(text, insertions)


@st.composite
def stray_spaces(draw, text: str) -> str:
    offsets = draw(st.lists(st.sampled_from(space_offsets(text)), min_size=1, max_size=30, unique=True))
    return _insert(text, [(o, draw(st.sampled_from([" ", "  ", "\u3000"]))) for o in offsets])


@st.composite
def all_damage(draw) -> str:
    text = draw(bold_markers(CLEAN))
    text = draw(swapped_brackets(text))
    text = draw(stray_spaces(text))
    return draw(page_breaks(text))


# --- properties -------------------------------------------------------------------------------

def test_the_clean_baseline_is_the_plan_a_reader_sees():
    # guards the properties below against comparing with an empty or broken baseline
    assert len(BASELINE["tasks"]) == 21 and len(BASELINE["indicators"]) == 15
    assert len(BASELINE["areas"]) == 12 and len(BASELINE["headline"]) == 1


def test_the_damage_strategies_have_places_to_fall():
    anywhere, awkward_places = break_places(CLEAN)
    assert len(anywhere) > 5000
    assert 500 < len(awkward_places) < len(anywhere) / 3
    assert len(bold_spans(CLEAN)) >= 21 + 30
    assert len(space_offsets(CLEAN)) > 5000


@EXAMPLES
@given(page_breaks(CLEAN))
def test_page_breaks_inside_paragraphs_change_nothing(damaged):
    assert what_matters(parse_plan(damaged)) == BASELINE


@EXAMPLES
@given(swapped_brackets(CLEAN))
def test_mixing_full_and_half_width_brackets_changes_nothing(damaged):
    assert what_matters(parse_plan(damaged)) == BASELINE


@EXAMPLES
@given(bold_markers(CLEAN))
def test_bold_markers_in_titles_and_labels_change_nothing(damaged):
    assert what_matters(parse_plan(damaged)) == BASELINE


@EXAMPLES
@given(stray_spaces(CLEAN))
def test_stray_spaces_beside_chinese_text_change_nothing(damaged):
    assert what_matters(parse_plan(damaged)) == BASELINE


@EXAMPLES
@given(all_damage())
def test_all_kinds_of_damage_together_change_nothing(damaged):
    assert what_matters(parse_plan(damaged)) == BASELINE


@pytest.mark.parametrize("cut_after", [
    "（牵头单位：",               # inside an annotation, after a colon
    "市场监管局、大数据局，各旗县区、经济技术开发区、和林格尔新区。",  # before the carry-forward sentence
    "市工业和信息",               # inside a unit name
    "(一) ",                     # right after a clause label
    "（五）**",                  # after a label and a bold marker
    "电能利用效率（PUE 值）",      # after a bracket of prose: 不超过 1.2 still needs its subject
    "新投产“两高”",               # after a closing quote mid-sentence
    "下降 13.5%。",               # after a full stop, before the annotation
])
def test_a_page_break_at_a_known_awkward_place_changes_nothing(cut_after):
    offset = CLEAN.index(cut_after) + len(cut_after)
    assert what_matters(parse_plan(CLEAN[:offset] + "\n\n" + CLEAN[offset:])) == BASELINE


def test_a_document_with_every_bracket_half_width_reads_the_same():
    half = CLEAN.translate(str.maketrans({"（": "(", "）": ")"}))
    assert "（" not in half
    assert what_matters(parse_plan(half)) == BASELINE
