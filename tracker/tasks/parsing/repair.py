"""Undo what PDF extraction does to a plan: page breaks, bold markers, mixed widths, stray spaces."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from tracker.tasks.parsing.annotations import AnnotationError, find_parentheticals, read_annotation
from tracker.tasks.parsing.numerals import NUMERAL_CHARS

CJK = r"\u3400-\u9fff\uf900-\ufaff"
CJK_PUNCT = "，。；：、！？（）《》“”‘’〔〕【】—…·％"
_SPACE_NEAR_CJK = re.compile(rf"[ \u3000\u00a0]+(?=[{CJK}{CJK_PUNCT}])|(?<=[{CJK}{CJK_PUNCT}])[ \u3000\u00a0]+")
_FULLWIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                            "％": "%", "．": ".", "(": "（", ")": "）"})
_HALFWIDTH_BETWEEN_CJK = {":": "：", ";": "；", ",": "，"}

#: a paragraph ends a sentence (or a heading list) here; otherwise a page break cut it
SENTENCE_END = "。！？；：…"
#: a closing bracket or quote ends a paragraph only when what it closes does (see _ends_paragraph)
CLOSERS = "）」”》"

SECTION_RE = re.compile(rf"^([{NUMERAL_CHARS}]+)、")
CLAUSE_RE = re.compile(rf"^（([{NUMERAL_CHARS}]+)）")
ITEM_RE = re.compile(r"^(\d{1,3})[.、](?!\d)")
ANNEX_RE = re.compile(r"^附件\s*(\d*)\s*[:：]?")
ANNEX_HEADING_RE = re.compile(r"^附件\s*\d+$")
#: 国发〔2018〕39号; a serial of more than six digits is no document number (and would not fit plans.doc_number)
DOC_NUMBER_RE = re.compile(r"^[\u4e00-\u9fff]{1,12}〔\d{4}〕\d{1,6}号$")
DATE_LINE_RE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
#: how Chinese official documents end their titles
TITLE_END_RE = re.compile(r"(方案|意见|通知|办法|规划|计划|决定|纲要|措施|细则|要点|规定|指引)$")


@dataclass
class Paragraph:
    """One logical paragraph with the source lines its characters came from."""

    text: str
    line: int
    #: (offset in text, source line) at every point where a new source line begins
    breaks: list[tuple[int, int]] = field(default_factory=list)

    def line_at(self, offset: int) -> int:
        offsets = [o for o, _ in self.breaks]
        index = bisect.bisect_right(offsets, offset) - 1
        return self.breaks[index][1] if index >= 0 else self.line

    @property
    def is_table_row(self) -> bool:
        return "\t" in self.text


def normalise_line(line: str) -> str:
    """Repair one source line: widths, bold markers, list bullets, spaces around CJK."""
    if not line.strip(" \u3000\u00a0"):
        return ""
    text = line.translate(_FULLWIDTH)
    text = text.replace("**", "").replace("\ufeff", "")
    text = re.sub(r"^[ \u3000\u00a0]*[-*•·][ \u3000]+", "", text)
    for half, full in _HALFWIDTH_BETWEEN_CJK.items():
        text = re.sub(rf"(?<=[{CJK}）]){re.escape(half)}", full, text)
    if "\t" in text:
        cells = [_SPACE_NEAR_CJK.sub("", cell).strip(" \u3000\u00a0") for cell in text.split("\t")]
        return "\t".join(cells)
    return _SPACE_NEAR_CJK.sub("", text).strip(" \u3000\u00a0")


def starts_structure(text: str) -> bool:
    """Tell whether a line opens a numbered part, an annex or a document number."""
    return bool(SECTION_RE.match(text) or CLAUSE_RE.match(text) or ITEM_RE.match(text)
                or ANNEX_RE.match(text) or DOC_NUMBER_RE.match(text) or DATE_LINE_RE.match(text))


def _is_heading(text: str) -> bool:
    """A short numbered heading, a document title, a document number or a date: never continued.

    A document number (国发〔2018〕39号) or a date stands on its own line and has no sentence end,
    so without this the addressee line below it would be glued onto it.
    """
    if "。" in text or len(text) > 60:
        return False
    return bool(SECTION_RE.match(text) or TITLE_END_RE.search(text) or ANNEX_HEADING_RE.match(text)
                or DOC_NUMBER_RE.match(text) or DATE_LINE_RE.match(text))


def _is_bare_label(text: str) -> bool:
    """A numbering label with nothing after it (（一） or 一、): its heading is on the next line."""
    match = SECTION_RE.match(text) or CLAUSE_RE.match(text) or ITEM_RE.match(text)
    return bool(match) and match.end() == len(text)


def _is_annotation(content: str) -> bool:
    """Tell whether a bracket's content names who carries a clause (rather than being prose)."""
    try:
        return read_annotation(content) is not None
    except AnnotationError:
        return True     # it names no unit, but it is an annotation: parse_plan reports it


def _ends_paragraph(text: str) -> bool:
    """Tell whether a paragraph's last character can end it.

    A closing bracket or quote ends one after a sentence end (…。”), as the annotation that closes
    a clause (…。（牵头单位：…）), as a line that is all bracket (（此件公开发布）) or as the close of a
    short heading or title (…方案（试行）). After prose — 电能利用效率（PUE值）| 不超过1.2, or
    新投产“两高”| 项目 — the sentence goes on: a page break cut it.
    """
    if text.endswith(tuple(SENTENCE_END)):
        return True
    if not text.endswith(tuple(CLOSERS)):
        return False
    if text[-2:-1] in tuple(SENTENCE_END) or ("。" not in text and len(text) <= 60):
        return True
    if text.endswith("）"):
        brackets = find_parentheticals(text)
        if brackets and brackets[-1][1] == len(text):
            start, _, content = brackets[-1]
            return start == 0 or _is_annotation(content)
    return False


def _continues(previous: Paragraph, text: str) -> bool:
    """Tell whether `text` is the rest of `previous`, cut off by a page break."""
    if previous.is_table_row or "\t" in text or starts_structure(text):
        return False
    # a bracket still open (（牵头单位：|市甲局）) or a bare label cannot end a paragraph, whatever
    # punctuation the page break happened to fall after
    if previous.text.count("（") > previous.text.count("）") or _is_bare_label(previous.text):
        return True
    if _ends_paragraph(previous.text) or _is_heading(previous.text):
        return False
    return True


def repair(raw: str) -> list[Paragraph]:
    """Return the document's paragraphs with extraction damage undone.

    Lines cut by a page break (no sentence end, the next line not a new numbered part)
    are joined without a space; each paragraph remembers its source lines for warnings.
    """
    paragraphs: list[Paragraph] = []
    for number, source in enumerate(raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        text = normalise_line(source)
        if not text:
            continue
        if paragraphs and _continues(paragraphs[-1], text):
            last = paragraphs[-1]
            last.breaks.append((len(last.text), number))
            last.text += text
            continue
        paragraphs.append(Paragraph(text=text, line=number, breaks=[(0, number)]))
    for paragraph in paragraphs:
        # a bold marker split by a page break ("*" + "*") is whole again only after joining
        if "**" in paragraph.text:
            paragraph.text = paragraph.text.replace("**", "")
    return paragraphs
