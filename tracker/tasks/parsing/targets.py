"""Find the commitments inside clause text: 到2025年，创建绿色工厂35家 → 绿色工厂 ≥ 35 家 (2025)."""
from __future__ import annotations

import re
from decimal import Decimal

from tracker.tasks.parsing.model import Target

DEADLINE_RE = re.compile(r"到(20\d{2})年|(20\d{2})年(?:底|末|\d{1,2}月底|上半年|年底)?前")
SENTENCE_RE = re.compile(r"[^。；！？]+")
NUMBER = r"(?<![\d.])(\d+(?:\.\d+)?)"
UNITS = ("个百分点", "%", "‰", "吨标准煤", "标准煤", "蒸吨/小时", "吨/日", "吨/天", "千瓦时", "千瓦",
         "平方公里", "平方米", "立方米", "公里", "千米", "公顷", "毫米", "米", "亩", "千克", "公斤",
         "克", "吨", "元", "家", "个", "座", "处", "项", "条", "所", "辆", "台", "套", "人次", "人",
         "户", "次", "天", "年", "类", "倍", "张", "批", "件", "种", "只", "头", "部", "间", "所")
_UNIT_BODY = r"(?:万|亿|千|百)?(?:" + "|".join(re.escape(u) for u in UNITS) + r")"
UNIT = rf"({_UNIT_BODY})?"
#: the verb right before the number decides the comparator; 以上/以下/左右 after it can override
PREFIX_COMPARATORS = [
    ("不低于", ">="), ("不少于", ">="), ("不小于", ">="), ("不超过", "<="), ("不高于", "<="),
    ("不多于", "<="), ("不大于", "<="), ("控制在", "<="), ("降至", "<="), ("降低到", "<="),
    ("下降到", "<="), ("减少到", "<="), ("压减到", "<="), ("低于", "<"), ("少于", "<"),
    ("超过", ">"), ("高于", ">"), ("多于", ">"), ("提高到", ">="), ("提升到", ">="),
    ("增长到", ">="), ("增加到", ">="), ("稳定在", ">="), ("保持在", ">="), ("达到", ">="),
    ("下降", ">="), ("降低", ">="), ("减少", ">="), ("削减", ">="), ("压减", ">="),
    ("提高", ">="), ("提升", ">="), ("增长", ">="), ("增加", ">="),
]
PREFIX_RE = "|".join(re.escape(word) for word, _ in PREFIX_COMPARATORS)
SUFFIX_COMPARATORS = {"以上": ">=", "以下": "<=", "以内": "<=", "左右": "~"}
VALUE_RE = re.compile(rf"(?P<prefix>{PREFIX_RE})?(?P<number>{NUMBER})(?P<unit>{_UNIT_BODY})?(?P<suffix>及以上|及以下|以上|以下|以内|左右)?")
MULTI_RE = re.compile(
    rf"(?P<mode>分别|均)(?P<prefix>{PREFIX_RE})?(?P<values>{NUMBER}{UNIT}(?:(?:、|和|及){NUMBER}{UNIT})*)"
    rf"(?P<suffix>以上|以下|以内|左右)?")
#: 全部 as "all of them", not the 全部 inside 健全部门 or 安全部门
ALL_RE = re.compile(r"(?<![健安齐周保成完])全部")
QUALITATIVE_RE = re.compile(r"(基本实现|全面实现|实现|达到|建成)")
#: a ceiling on a benefit, a ban or a condition is not a commitment to report on
NOT_A_COMMITMENT_RE = re.compile(r"(最高|最低|禁止|严禁|不得|可申请)")
MEASURE_TAIL_RE = re.compile(
    r"(?:使用|综合|治理|利用|覆盖|消纳|机械化|处理|回收|收集|达标|替代|审核|应用)?"
    r"(?:率|比例|比重|占比|权重|使用量|量|能力|面积|数量|规模|水平|强度)$")
SYMBOLS = dict(PREFIX_COMPARATORS)
PHRASE_RE = re.compile(r"[^，,：]+")
DIGIT_RE = re.compile(r"\d")


def deadlines(text: str) -> list[tuple[int, int]]:
    """Return (offset, year) of each deadline phrase in the text."""
    return [(m.start(), int(m.group(1) or m.group(2))) for m in DEADLINE_RE.finditer(text)]


def extract_targets(text: str, *, default_year: int | None, line_at=lambda offset: None) -> list[Target]:
    """Return the targets stated in a clause's text (annotations already blanked out)."""
    marks = deadlines(text)
    found: list[Target] = []
    for sentence in SENTENCE_RE.finditer(text):
        first_deadline = DEADLINE_RE.search(sentence.group())
        offset = sentence.start()
        for phrase in PHRASE_RE.finditer(sentence.group()):
            start = offset + phrase.start()
            year = next((y for o, y in reversed(marks) if o <= start), default_year)
            in_deadline = first_deadline is not None and first_deadline.start() <= phrase.start()
            for target in _phrase_targets(phrase.group(), year, in_deadline):
                found.append(Target(**{**target.__dict__, "line": line_at(start)}))
    return found


def _clean(measure: str) -> str:
    measure = DEADLINE_RE.sub("", measure)
    measure = re.sub(r"^(到|在|其中|并|且|同时)", "", measure)
    return measure.strip("，、；： ")


def _phrase_targets(phrase: str, year: int | None, in_deadline: bool) -> list[Target]:
    text = phrase.strip()
    if not text or NOT_A_COMMITMENT_RE.search(text) or text.endswith("的"):
        return []
    # most phrases of a plan state no number: the two long alternations below need one to match at all
    has_number = DIGIT_RE.search(text) is not None
    if has_number and (multi := MULTI_RE.search(text)):
        return _multi_targets(text, multi, year)
    targets, cursor = [], 0
    for match in VALUE_RE.finditer(text) if has_number else ():
        suffix, prefix, unit = match.group("suffix"), match.group("prefix"), match.group("unit")
        number = match.group("number")
        if suffix in ("及以上", "及以下"):
            continue
        if re.match(r"20\d{2}$|19\d{2}$", number) and (unit == "年" or text[match.end():].startswith("年")):
            continue
        after = text[match.end():]
        attributive = bool(after) and not after.startswith(("，", "、", "。", "；"))
        if prefix is None and not in_deadline:
            continue
        if prefix is None and suffix is None and (not unit or attributive):
            continue
        comparator = SUFFIX_COMPARATORS.get(suffix) or SYMBOLS.get(prefix) or ">="
        before = text[cursor:match.start()]
        measure = before + (prefix if prefix and prefix in ("下降", "降低", "减少", "削减", "压减",
                                                          "提高", "提升", "增长", "增加") else "")
        if attributive and (prefix is None or after.startswith("的")):
            measure = re.sub(r"(按照|按)$", "", before) + after.lstrip("的")
        measure = _clean(measure)
        if not measure:
            continue
        targets.append(Target(measure=measure, comparator=comparator, value=Decimal(number),
                              unit=unit, deadline_year=year, text=_clean_text(phrase)))
        cursor = match.end()
    if targets:
        return targets
    if ALL_RE.search(text):
        measure = _clean(ALL_RE.sub("", text))
        return [Target(measure=measure, comparator="=", value=Decimal("100"), unit="%",
                       deadline_year=year, text=_clean_text(phrase))]
    if in_deadline and QUALITATIVE_RE.search(text) and not (has_number and DIGIT_RE.search(DEADLINE_RE.sub("", text))):
        return [Target(measure=_clean(text), comparator=None, value=None, unit=None,
                       deadline_year=year, text=_clean_text(phrase))]
    return []


def _multi_targets(text: str, match: re.Match, year: int | None) -> list[Target]:
    """分别降低20%、10% / 均达到45%: one target per subject."""
    values = [(m.group(1), m.group(2)) for m in re.finditer(rf"{NUMBER}{UNIT}", match.group("values"))]
    subjects_text = _clean(text[:match.start()])
    subjects = [s for s in subjects_text.split("、") if s] or [subjects_text]
    tail_match = MEASURE_TAIL_RE.search(subjects[-1])
    tail = tail_match.group() if tail_match else ""
    cores = [s[:-len(tail)] if tail and s.endswith(tail) else s for s in subjects]
    measures = [cores[0] + tail]
    for core in cores[1:]:
        # 马铃薯种植、收获机械化率: the later subjects share what precedes the first one's last word
        shared = cores[0][:len(cores[0]) - len(core)] if len(core) < len(cores[0]) else ""
        measures.append(shared + core + tail)
    if match.group("mode") == "均":
        values = values * len(measures)
    if len(measures) != len(values):
        measures = [subjects_text] * len(values)
    verb = match.group("prefix") or ""
    comparator = SUFFIX_COMPARATORS.get(match.group("suffix")) or SYMBOLS.get(verb) or ">="
    directional = verb if verb in ("下降", "降低", "减少", "削减", "压减", "提高", "提升", "增长", "增加") else ""
    last_unit = next((u for _, u in reversed(values) if u), None)
    return [Target(measure=measure + directional, comparator=comparator, value=Decimal(number),
                   unit=unit or last_unit, deadline_year=year, text=_clean_text(text))
            for measure, (number, unit) in zip(measures, values)]


def _clean_text(phrase: str) -> str:
    return phrase.strip("，、；： ")
