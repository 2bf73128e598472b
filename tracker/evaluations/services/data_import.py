"""Importing the evaluation's yearly inputs from a file: area energy data or measures scores.

Energy files (.xlsx or .csv: UTF-8 with or without BOM, or GB18030) have the header
`area,year,energy_tce,gdp_10k_yuan,renewable_tce,feedstock_tce` or
`地区,年份,能源消费总量,地区生产总值,新增可再生能源电力消费量,原料用能`, with an optional column
`expected_total_tce` / `预期能源消费总量`; measures files `area,year,measures_score,note` or
`地区,年份,措施得分,说明`. Areas are 附件 1's, found through the units directory's names and aliases
(土默特左旗 → 土左旗). A file is all or nothing: every problem is listed with its line, nothing is written
unless there are none; a row for an (area, year) already stored replaces it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from tracker.accounts.permissions import can_enter_energy_data, can_score_measures, require
from tracker.agencies.contacts import read_sheet
from tracker.agencies.services import NameResolver
from tracker.audit import services as audit
from tracker.errors import InvalidFile
from tracker.evaluations.services.data_entry import (ENERGY_FIELDS, check_energy, check_measures, plan_years,
                                                     store_energy, store_measures)
from tracker.evaluations.services.rules import rules_for_display
from tracker.reporting.models import AreaEnergyData, MeasuresScore
from tracker.tasks.models import AreaTarget, Plan

ENERGY_HEADER = {
    "area": "area", "地区": "area", "地区名称": "area", "旗县区": "area",
    "year": "year", "年份": "year", "年度": "year",
    "energy_tce": "energy_tce", "能源消费总量": "energy_tce",
    "gdp_10k_yuan": "gdp_10k_yuan", "地区生产总值": "gdp_10k_yuan", "gdp": "gdp_10k_yuan",
    "renewable_tce": "renewable_tce", "新增可再生能源电力消费量": "renewable_tce",
    "feedstock_tce": "feedstock_tce", "原料用能": "feedstock_tce",
    "expected_total_tce": "expected_total_tce", "预期能源消费总量": "expected_total_tce",
}
ENERGY_REQUIRED = ("area", "year", "energy_tce", "gdp_10k_yuan", "renewable_tce", "feedstock_tce")
ENERGY_HINT = ("第一行应为表头“地区,年份,能源消费总量,地区生产总值,新增可再生能源电力消费量,原料用能”"
               "（或 area,year,energy_tce,gdp_10k_yuan,renewable_tce,feedstock_tce；可另加一列 预期能源消费总量）")
MEASURES_HEADER = {
    "area": "area", "地区": "area", "地区名称": "area", "旗县区": "area",
    "year": "year", "年份": "year", "年度": "year",
    "measures_score": "score", "score": "score", "措施得分": "score", "节能措施得分": "score", "评分": "score",
    "得分": "score",
    "note": "note", "说明": "note", "评分说明": "note", "备注": "note", "理由": "note",
}
MEASURES_REQUIRED = ("area", "year", "score")
MEASURES_HINT = "第一行应为表头“地区,年份,措施得分,说明”（或 area,year,measures_score,note）"


@dataclass
class ImportSummary:
    filename: str
    created: int
    updated: int
    unchanged: int
    years: list[int]

    def summary(self) -> str:
        years = "、".join(str(y) for y in self.years)
        return (f"已导入“{self.filename}”：{years}年，新增 {self.created} 行，更新 {self.updated} 行，"
                f"未变 {self.unchanged} 行")


def _header_key(cell: str) -> str:
    """A header cell without its unit in brackets: 能源消费总量（吨标准煤） → 能源消费总量."""
    text = unicodedata.normalize("NFKC", cell).strip().lstrip("\ufeff").lower()
    text = re.sub(r"\(.*?\)|\[.*?\]|〔.*?〕", "", text)
    return text.replace(" ", "")


def _columns(cells: list[str], words: dict[str, str], required: tuple[str, ...]) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = words.get(_header_key(cell))
        if key and key not in columns:
            columns[key] = index
    return columns if all(name in columns for name in required) else None


@dataclass
class _Line:
    line: int
    unit_id: int
    year: int
    values: object


def _read_lines(session: Session, plan: Plan, data: bytes, filename: str, *, words: dict[str, str],
                required: tuple[str, ...], hint: str, check) -> list[_Line]:
    """Every line checked: area (through aliases, one of 附件 1's), year in the plan, the values by `check`.

    :raises InvalidFile: with every problem of every line
    """
    base, end = plan_years(plan)
    sheet = read_sheet(data, filename, find_columns=lambda cells: _columns(cells, words, required), hint=hint)
    resolver = NameResolver.load(session)
    area_ids = {area.unit_id for area in session.exec(select(AreaTarget).where(AreaTarget.plan_id == plan.id))}
    problems: list[tuple[int | None, str]] = []
    found: list[_Line] = []

    cell = sheet.cell

    for line, cells in sheet.lines:
        count = len(problems)
        name = cell(cells, "area")
        unit = resolver.unit(name) if name else None
        if not name:
            problems.append((line, "缺少地区名称"))
        elif unit is None:
            problems.append((line, f"地区“{name}”不在单位目录中（请检查名称或先添加简称）"))
        elif unit.id not in area_ids:
            problems.append((line, f"“{name}”不是本计划附件1中的地区"))
        year_text = unicodedata.normalize("NFKC", cell(cells, "year")).removesuffix("年").strip()
        year = int(year_text) if re.fullmatch(r"[0-9]{4}", year_text) else None
        if year is None:
            problems.append((line, f"年份应为四位整数，如 {end}" + (f"（现为“{year_text}”）" if year_text else "")))
        elif not base <= year <= end:
            problems.append((line, f"年份 {year} 应在 {base}–{end} 年之间（{base} 年为基期）"))
        values, messages = check({key: cell(cells, key) for key in sheet.columns}, year)
        problems.extend((line, message) for message in messages)
        if unit is not None and year is not None and (earlier := sheet.earlier_line((unit.id, year), line)):
            problems.append((line, f"与第 {earlier} 行重复：同一地区同一年份只能出现一次"))
        if len(problems) == count:
            found.append(_Line(line=line, unit_id=unit.id, year=year, values=values))
    if problems:
        raise InvalidFile(problems)
    if not found:
        raise InvalidFile([(None, "文件中只有表头，没有数据行")])
    return found


def import_energy_data(session: Session, plan: Plan, data: bytes, *, filename: str, actor,
                       now: datetime) -> ImportSummary:
    """Import area energy figures from a file, all or nothing.

    :raises PermissionDenied: unless `actor` is a coordinator or the office
    :raises InvalidFile: listing every (line, problem): unreadable file, missing header, unknown area, an area
        not in 附件 1, a year outside the plan, a figure that is not a non-negative number, GDP 0, renewable +
        feedstock not below the total, an (area, year) twice
    """
    require(can_enter_energy_data(actor), "只有统筹单位和督查科可以导入能源数据")
    plan_years(plan)

    def check(values: dict[str, str], _year):
        parsed, errors = check_energy(values)
        return parsed, [errors[name] for name in ENERGY_FIELDS if name in errors]

    lines = _read_lines(session, plan, data, filename, words=ENERGY_HEADER, required=ENERGY_REQUIRED,
                        hint=ENERGY_HINT, check=check)
    years = sorted({line.year for line in lines})
    existing = {(row.unit_id, row.year): row for row in session.exec(select(AreaEnergyData).where(
        AreaEnergyData.plan_id == plan.id, AreaEnergyData.year.in_(years)))}
    outcomes = [store_energy(session, plan, line.unit_id, line.year, line.values,
                             existing.get((line.unit_id, line.year)), source="import", actor=actor, now=now)
                for line in lines]
    return _recorded(session, plan, filename, years, outcomes, action="energy_data.imported", actor=actor, now=now)


def import_measures(session: Session, plan: Plan, data: bytes, *, filename: str, actor,
                    now: datetime) -> ImportSummary:
    """Import measures scores from a file, all or nothing.

    :raises PermissionDenied: unless `actor` is a coordinator or the office
    :raises InvalidFile: listing every (line, problem), as `import_energy_data`; a score outside 0 to the maximum
    """
    require(can_score_measures(actor), "只有统筹单位和督查科可以导入节能措施得分")
    base, _ = plan_years(plan)
    maximum = rules_for_display(session, now=now).measures_points

    def check(values: dict[str, str], year):
        score, errors = check_measures(values.get("score"), values.get("note"), maximum=maximum)
        messages = [errors[name] for name in ("score", "note") if name in errors]
        if year == base:
            messages.append(f"{base} 年是基期，不评定节能措施得分")
        return (score, (values.get("note") or "").strip()), messages

    lines = _read_lines(session, plan, data, filename, words=MEASURES_HEADER, required=MEASURES_REQUIRED,
                        hint=MEASURES_HINT, check=check)
    years = sorted({line.year for line in lines})
    existing = {(row.unit_id, row.year): row for row in session.exec(select(MeasuresScore).where(
        MeasuresScore.plan_id == plan.id, MeasuresScore.year.in_(years)))}
    outcomes = [store_measures(session, plan, line.unit_id, line.year, *line.values,
                               existing.get((line.unit_id, line.year)), actor=actor, now=now) for line in lines]
    return _recorded(session, plan, filename, years, outcomes, action="measures.imported", actor=actor, now=now)


def _recorded(session: Session, plan: Plan, filename: str, years: list[int], outcomes: list[str], *, action: str,
              actor, now: datetime) -> ImportSummary:
    """Summarise an import's rows ("created", "updated", "unchanged"), put it in the audit log and commit."""
    summary = ImportSummary(filename=filename, created=outcomes.count("created"), updated=outcomes.count("updated"),
                            unchanged=outcomes.count("unchanged"), years=years)
    audit.record(session, actor=actor, action=action, now=now, summary=f"{plan.title}：{summary.summary()}",
                 details={"plan": plan.slug, "filename": filename, "created": summary.created,
                          "updated": summary.updated, "unchanged": summary.unchanged, "years": years})
    session.commit()
    return summary
