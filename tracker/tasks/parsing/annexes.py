"""Read annex tables: area targets (附件 1 style) and sector indicators (附件 2 style).

Defective rows are kept with flags in plain Chinese; no value is ever invented.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from tracker.tasks.parsing.model import AreaTarget, Indicator, ParseWarning
from tracker.tasks.parsing.repair import Paragraph

MISSING = {"", "—", "——", "-", "–", "/", "－", "无", "—/—"}
NUMBER_WITH_UNIT_RE = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(\S*)$")
MEASURE_WORDS = ("能耗", "比重", "率", "权重", "效率", "强度", "量", "比例", "指数", "耗")
YEAR_RE = re.compile(r"(20\d{2})")


def parse_decimal(text: str) -> tuple[Decimal | None, str | None]:
    """Return (number, unit written beside it) of a cell; (None, None) when blank or not a number."""
    cell = text.strip().replace("，", "").replace(",", "")
    if cell in MISSING:
        return None, None
    match = NUMBER_WITH_UNIT_RE.match(cell)
    if not match:
        return None, None
    try:
        return Decimal(match.group(1)), (match.group(2) or None)
    except InvalidOperation:
        return None, None


def read_annexes(paragraphs: list[Paragraph]) -> tuple[list[AreaTarget], list[Indicator], list[ParseWarning]]:
    """Split the annex part into tables and read each one it recognises."""
    areas: list[AreaTarget] = []
    indicators: list[Indicator] = []
    warnings: list[ParseWarning] = []
    for title, rows in _tables(paragraphs):
        header = rows[0].text.split("\t")
        joined = "".join(header)
        if "目标" in joined and ("地区" in joined or "区域" in joined) and "单位" not in header:
            areas += _area_targets(rows, warnings)
        elif "指标" in header[0].replace(" ", "") or ("单位" in joined and YEAR_RE.search(joined)):
            indicators += _indicators(rows, warnings)
        else:
            warnings.append(ParseWarning(rows[0].line, f"附件表格“{title}”不是地区目标表或指标表，已按原文保留，未导入"))
    return areas, indicators, warnings


def _tables(paragraphs: list[Paragraph]):
    """Yield (title, rows) for each run of tab-separated rows."""
    title, rows = "", []
    for paragraph in paragraphs:
        if paragraph.is_table_row:
            rows.append(paragraph)
            continue
        if rows:
            yield title, rows
            rows = []
        if not re.match(r"^(附件\s*\d*|注)", paragraph.text):
            title = paragraph.text
    if rows:
        yield title, rows


def _column(header: list[str], *words: str) -> int | None:
    for index, cell in enumerate(header):
        if all(word in cell for word in words):
            return index
    return None


def _area_targets(rows: list[Paragraph], warnings: list[ParseWarning]) -> list[AreaTarget]:
    header = rows[0].text.split("\t")
    basic = _column(header, "基本")
    incentive = _column(header, "激励")
    if basic is None:
        basic = 1
        warnings.append(ParseWarning(rows[0].line, "地区目标表没有“基本目标”列，按第 2 列读取"))
    result = []
    for row in rows[1:]:
        cells = row.text.split("\t")
        area = cells[0].strip()
        if not area:
            continue
        flags = []
        basic_pct, _ = parse_decimal(cells[basic]) if basic < len(cells) else (None, None)
        incentive_pct = None
        if incentive is not None and incentive < len(cells):
            incentive_pct, _ = parse_decimal(cells[incentive])
        if basic_pct is None:
            flags.append("缺少能耗强度降低基本目标")
        if incentive is not None and incentive_pct is None:
            flags.append("缺少能耗强度降低激励目标")
        if basic_pct is not None and incentive_pct is not None and incentive_pct < basic_pct:
            flags.append(f"激励目标 {incentive_pct}% 低于基本目标 {basic_pct}%，请核实")
        for flag in flags:
            warnings.append(ParseWarning(row.line, f"附件地区“{area}”：{flag}"))
        result.append(AreaTarget(area=area, basic_pct=basic_pct, incentive_pct=incentive_pct,
                                 line=row.line, flags=flags))
    return result


def _merge_header(rows: list[Paragraph]) -> tuple[list[str], int]:
    """Merge a header spread over two rows (the second starts with an empty cell)."""
    header = rows[0].text.split("\t")
    used = 1
    while used < len(rows):
        cells = rows[used].text.split("\t")
        if cells[0].strip() or any(parse_decimal(c)[0] is not None for c in cells):
            break
        width = max(len(header), len(cells))
        header += [""] * (width - len(header))
        for index, cell in enumerate(cells):
            if cell.strip():
                header[index] = f"{header[index]}/{cell}" if header[index] else cell
        used += 1
    # a parent heading spanning two columns (2025年指标 over 目标值 | 变化幅度) names the next one too
    return [cell.strip() for cell in header], used


def _is_sector_row(cells: list[str]) -> bool:
    name = cells[0].strip()
    rest_empty = not any(c.strip() for c in cells[1:])
    return rest_empty and 0 < len(name) <= 6 and not any(word in name for word in MEASURE_WORDS)


def _indicators(rows: list[Paragraph], warnings: list[ParseWarning]) -> list[Indicator]:
    header, used = _merge_header(rows)
    unit_col = _column(header, "单位")
    base_col = next((i for i, h in enumerate(header) if YEAR_RE.search(h) and ("实际" in h or "基期" in h or "现状" in h)), None)
    target_col = next((i for i, h in enumerate(header) if YEAR_RE.search(h) and i != base_col
                       and ("目标" in h or "指标" in h)), None)
    change_col = _column(header, "变化")
    base_year = int(YEAR_RE.search(header[base_col]).group(1)) if base_col is not None else None
    target_year = int(YEAR_RE.search(header[target_col]).group(1)) if target_col is not None else None
    base_label = f"{base_year}年实际值" if base_year else "基期值"
    target_label = f"{target_year}年目标值" if target_year else "目标值"
    result, sector = [], ""
    for row in rows[used:]:
        cells = row.text.split("\t")
        cells += [""] * (len(header) - len(cells))
        if not cells[0].strip():
            continue
        if _is_sector_row(cells):
            sector = cells[0].strip()
            continue
        name = cells[0].strip()
        unit = cells[unit_col].strip() if unit_col is not None and cells[unit_col].strip() else None
        flags: list[str] = []
        if unit is None:
            flags.append("未注明计量单位")
        baseline = _value(cells, base_col, base_label, unit, flags)
        target = _value(cells, target_col, target_label, unit, flags)
        change = cells[change_col].strip() if change_col is not None else ""
        change = None if change in MISSING else change
        if change is None and (baseline is not None or target is not None):
            flags.append("缺少变化幅度/变化率")
        if change is not None:
            flags += _check_change(change, baseline, target, base_label, target_label)
        for flag in flags:
            warnings.append(ParseWarning(row.line, f"附件指标“{name}”：{flag}"))
        result.append(Indicator(sector=sector, name=name, unit=unit, baseline_year=base_year,
                                baseline=baseline, target_year=target_year, target=target,
                                change=change, line=row.line, raw_cells=cells, flags=flags))
    return result


def _value(cells, column, label, unit, flags) -> Decimal | None:
    if column is None or column >= len(cells):
        flags.append(f"缺少{label}")
        return None
    raw = cells[column].strip()
    value, written_unit = parse_decimal(raw)
    if value is None:
        flags.append(f"缺少{label}" if raw in MISSING else f"{label}“{raw}”不是数值，未采用")
        return None
    if written_unit and written_unit != unit:
        flags.append(f"{label}“{raw}”带有单位“{written_unit}”，与该指标的单位“{unit or '（未注明）'}”不一致，"
                     f"未采用该值，请核对原文")
        return None
    return value


RATE_RE = re.compile(r"〔\s*([+-]?\d+(?:\.\d+)?)\s*%?\s*〕|^([+-]?\d+(?:\.\d+)?)\s*%$")


def _check_change(change: str, baseline, target, base_label, target_label) -> list[str]:
    """Compare the stated change (27.02/〔-19.7%〕, -5%, 45) with what baseline and target give."""
    absolute_text, absolute, rate_text = None, None, None
    for part in change.split("/"):
        part = part.strip()
        if match := RATE_RE.search(part):
            rate_text = match.group(1) or match.group(2)
        elif (value := parse_decimal(part)[0]) is not None:
            absolute_text, absolute = part, value     # 1,234 or 51万吨: the number without its commas or unit
    if absolute_text is None and rate_text is None:
        return [f"变化幅度“{change}”无法识别"]
    if baseline is None or target is None:
        return [f"缺少{base_label if baseline is None else target_label}，无法核对变化幅度“{change}”"]
    flags = []
    difference = target - baseline
    if absolute_text is not None:
        if abs(abs(absolute) - abs(difference)) > _tolerance(format(absolute, "f")):
            flags.append(f"变化幅度 {absolute_text} 与{target_label}减{base_label}之差 {difference} 不一致")
    if rate_text is not None:
        if baseline == 0:
            return flags + [f"{base_label}为 0，无法核对变化率"]
        computed = difference / baseline * 100
        stated = Decimal(rate_text)
        if abs(stated - computed) > _tolerance(rate_text):
            flags.append(f"变化率 {rate_text}% 与由{base_label}和{target_label}算得的 "
                         f"{computed:.2f}% 不一致")  # quantize fails beyond 28 digits
    return flags


def _tolerance(written: str) -> Decimal:
    """One unit of the last digit written: a figure may be rounded or truncated."""
    decimals = len(written.split(".")[1]) if "." in written else 0
    return Decimal(1).scaleb(-decimals)
