"""The evaluation's yearly inputs of each 附件 1 area, energy figures and measures scores: their checks, the
pages' reads, and their entry in the browser, one year of every area in a grid."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from tracker.accounts.permissions import can_enter_energy_data, can_score_measures, require
from tracker.audit import services as audit
from tracker.errors import Invalid
from tracker.evaluations.services.rules import rules_for_display
from tracker.reporting.models import AreaEnergyData, MeasuresScore
from tracker.tasks.models import AreaTarget, Plan

#: a quantity as typed, after full-width digits are folded and thousands separators dropped
QUANTITY_RE = re.compile(r"[+-]?(?:[0-9]{1,15}(?:\.[0-9]{0,10})?|\.[0-9]{1,10})")
ENERGY_FIELDS = ("energy_tce", "gdp_10k_yuan", "renewable_tce", "feedstock_tce", "expected_total_tce")
ENERGY_LABELS = {"energy_tce": "能源消费总量", "gdp_10k_yuan": "地区生产总值", "renewable_tce": "新增可再生能源电力消费量",
                 "feedstock_tce": "原料用能", "expected_total_tce": "预期能源消费总量"}
ENERGY_UNITS = {"energy_tce": "吨标准煤", "gdp_10k_yuan": "万元（2020年可比价）", "renewable_tce": "吨标准煤",
                "feedstock_tce": "吨标准煤", "expected_total_tce": "吨标准煤"}
NOTE_MAX = 500


class CellErrors(Invalid):
    """Several cells of a grid are wrong: `errors` maps each cell's field name to its message."""

    def __init__(self, errors: dict[str, str]):
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_field, first_message)
        self.errors = errors


# --- parsing --------------------------------------------------------------------------------------

def parse_quantity(text: str | None) -> Decimal | None:
    """A typed quantity: full-width digits and thousands commas accepted; None when blank.

    :raises ValueError: with a Chinese message, if it is not a plain number
    """
    cleaned = re.sub(r"[,\s]", "", unicodedata.normalize("NFKC", text or "").replace("\u2212", "-"))
    if not cleaned:
        return None
    if not QUANTITY_RE.fullmatch(cleaned):
        raise ValueError("应为数字（不带单位），如 1234.5；最多 15 位整数、10 位小数")
    try:
        return Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain numbers
        raise ValueError("应为数字（不带单位），如 1234.5") from None


def plan_years(plan: Plan) -> tuple[int, int]:
    """(base year, end year): the base is the year before the plan starts (2020 for 2021–2025).

    :raises Invalid: if the plan has no start and end year
    """
    if not plan.start_year or not plan.end_year:
        raise Invalid("plan", "该计划没有规划起止年份，无法录入评价数据")
    return plan.start_year - 1, plan.end_year


def check_year(plan: Plan, year: int) -> None:
    base, end = plan_years(plan)
    if not base <= year <= end:
        raise Invalid("year", f"年份应在 {base}–{end} 年之间（{base} 年为基期）")


def check_energy(values: dict[str, str | None]) -> tuple[dict[str, Decimal | None], dict[str, str]]:
    """Validate one area-year's figures: (parsed values, {field: message}) — messages name the figure."""
    parsed: dict[str, Decimal | None] = {}
    errors: dict[str, str] = {}
    for name in ENERGY_FIELDS:
        label = ENERGY_LABELS[name]
        try:
            value = parse_quantity(values.get(name))
        except ValueError as exc:
            errors[name] = f"{label}{exc}"
            continue
        if value is None:
            if name != "expected_total_tce":
                errors[name] = f"请填写{label}" + ("（没有请填 0）" if name in ("renewable_tce", "feedstock_tce") else "")
            parsed[name] = None
            continue
        if value < 0:
            errors[name] = f"{label}不能为负数"
        elif name == "gdp_10k_yuan" and value == 0:
            errors[name] = "地区生产总值应大于 0"
        parsed[name] = value
    if not errors:
        excluded = parsed["renewable_tce"] + parsed["feedstock_tce"]
        if excluded >= parsed["energy_tce"]:
            errors["feedstock_tce"] = (f"新增可再生能源电力消费量与原料用能之和（{format(excluded, 'f')}）"
                                       f"应小于能源消费总量（{format(parsed['energy_tce'], 'f')}）")
    return parsed, errors


def check_measures(score_text: str | None, note: str | None, *, maximum: Decimal) -> tuple[Decimal | None, dict]:
    errors: dict[str, str] = {}
    try:
        score = parse_quantity(score_text)
    except ValueError as exc:
        return None, {"score": f"措施得分{exc}"}
    if score is None:
        errors["score"] = "请填写措施得分"
    elif not Decimal(0) <= score <= maximum:
        errors["score"] = f"措施得分应在 0 到 {format(maximum, 'f')} 之间"
    if len((note or "").strip()) > NOTE_MAX:
        errors["note"] = f"评分说明不能超过 {NOTE_MAX} 个字符"
    return score, errors


def _is_blank(values: dict[str, str | None]) -> bool:
    return not any((value or "").strip() for value in values.values())


# --- reads for the pages --------------------------------------------------------------------------

def plan_areas(session: Session, plan: Plan) -> list[AreaTarget]:
    """附件 1's areas in document order, with their units."""
    return list(session.exec(select(AreaTarget).where(AreaTarget.plan_id == plan.id)
                             .options(selectinload(AreaTarget.unit)).order_by(AreaTarget.position)))


@dataclass
class EnergyGrid:
    plan: Plan
    year: int
    years: list[int]
    areas: list[AreaTarget]
    rows: dict[int, AreaEnergyData]   #: unit id → the stored figures


def energy_grid(session: Session, plan: Plan, year: int) -> EnergyGrid:
    """One year's figures of every 附件 1 area, in two queries.

    :raises Invalid: if the year is outside the plan (base year to end year)
    """
    check_year(plan, year)
    base, end = plan_years(plan)
    areas = plan_areas(session, plan)
    rows = session.exec(select(AreaEnergyData).where(AreaEnergyData.plan_id == plan.id,
                                                     AreaEnergyData.year == year)).all()
    return EnergyGrid(plan=plan, year=year, years=list(range(base, end + 1)), areas=areas,
                      rows={row.unit_id: row for row in rows})


@dataclass
class MeasuresGrid:
    plan: Plan
    year: int
    years: list[int]
    areas: list[AreaTarget]
    rows: dict[int, MeasuresScore]
    maximum: Decimal


def check_measures_year(plan: Plan, year: int) -> None:
    """:raises Invalid: unless the year is one of the plan's years (the base year has no measures score)"""
    base, end = plan_years(plan)
    if not base < year <= end:
        raise Invalid("year", f"节能措施得分的年份应在 {base + 1}–{end} 年之间")


def measures_grid(session: Session, plan: Plan, year: int, *, now: datetime) -> MeasuresGrid:
    """One year's measures scores of every 附件 1 area.

    :raises Invalid: if the year is not one of the plan's years
    """
    check_measures_year(plan, year)
    base, end = plan_years(plan)
    areas = plan_areas(session, plan)
    rows = session.exec(select(MeasuresScore).where(MeasuresScore.plan_id == plan.id, MeasuresScore.year == year)).all()
    return MeasuresGrid(plan=plan, year=year, years=list(range(base + 1, end + 1)), areas=areas,
                        rows={row.unit_id: row for row in rows},
                        maximum=rules_for_display(session, now=now).measures_points)


# --- the browser grids ----------------------------------------------------------------------------

def save_energy_data(session: Session, plan: Plan, *, year: int, rows: dict[int, dict[str, str | None]],
                     actor, now: datetime) -> int:
    """Store one year's figures for the plan's areas as typed in the grid; return how many rows changed.

    An area whose cells are all blank has no figures for the year (figures stored before are removed).

    :raises PermissionDenied: unless `actor` is a coordinator or the office
    :raises Invalid: if the year is outside the plan
    :raises CellErrors: naming each wrong cell (`energy_tce-<unit id>` …) with its message; nothing is written
    """
    require(can_enter_energy_data(actor), "只有统筹单位和督查科可以录入能源数据")
    check_year(plan, year)
    areas = plan_areas(session, plan)
    existing = {row.unit_id: row for row in session.exec(select(AreaEnergyData).where(
        AreaEnergyData.plan_id == plan.id, AreaEnergyData.year == year))}
    checked = _checked_grid(areas, lambda unit_id: {name: (rows.get(unit_id) or {}).get(name) for name in ENERGY_FIELDS},
                            check_energy)
    changed = store_grid(session, checked, existing, lambda unit_id, parsed, row: store_energy(
        session, plan, unit_id, year, parsed, row, source="browser", actor=actor, now=now))
    audit.record(session, actor=actor, action="energy_data.saved", now=now,
                 summary=f"录入{plan.title} {year}年各地区能源数据：改动 {changed} 个地区",
                 details={"plan": plan.slug, "year": year, "changed": changed})
    session.commit()
    return changed


def _checked_grid(areas, values_of, check) -> dict:
    """Each area's cells as `check` reads them, or None when they are all blank; every wrong cell is named
    (`<field>-<unit id>`) in one CellErrors, before anything is written."""
    errors: dict[str, str] = {}
    checked: dict = {}
    for area in areas:
        values = values_of(area.unit_id)
        if _is_blank(values):
            checked[area.unit_id] = None
            continue
        checked[area.unit_id], problems = check(values)
        errors.update({f"{name}-{area.unit_id}": message for name, message in problems.items()})
    if errors:
        raise CellErrors(errors)
    return checked


def store_grid(session: Session, checked: dict, existing: dict, store) -> int:
    """Store each checked cell or area through `store(key, entry, row)`, which answers "created", "updated" or
    "unchanged"; a blank one (None) removes its stored row. Returns how many changed."""
    changed = 0
    for key, entry in checked.items():
        row = existing.get(key)
        if entry is None:
            if row is not None:
                session.delete(row)
                changed += 1
            continue
        changed += store(key, entry, row) != "unchanged"
    return changed


def store_energy(session: Session, plan: Plan, unit_id: int, year: int, parsed: dict, row: AreaEnergyData | None,
                 *, source: str, actor, now: datetime) -> str:
    """Create or update one row (no commit): "created", "updated" or "unchanged"."""
    if row is None:
        session.add(AreaEnergyData(plan_id=plan.id, unit_id=unit_id, year=year, source=source, updated_dt=now,
                                   updated_by_id=getattr(actor, "id", None), **parsed))
        return "created"
    if all(getattr(row, name) == parsed[name] and (getattr(row, name) is None) == (parsed[name] is None)
           for name in ENERGY_FIELDS):
        return "unchanged"
    for name in ENERGY_FIELDS:
        setattr(row, name, parsed[name])
    row.source, row.updated_dt, row.updated_by_id = source, now, getattr(actor, "id", None)
    return "updated"


def save_measures(session: Session, plan: Plan, *, year: int, rows: dict[int, dict[str, str | None]], actor,
                  now: datetime) -> int:
    """Store one year's measures scores (0 to the rules' maximum, 60 by default) with their justification.

    An area with a blank score and a blank note has no score for the year (a stored one is removed).

    :raises PermissionDenied: unless `actor` is a coordinator or the office
    :raises CellErrors: naming each wrong cell (`score-<unit id>`, `note-<unit id>`); nothing is written
    """
    require(can_score_measures(actor), "只有统筹单位和督查科可以评定节能措施得分")
    check_measures_year(plan, year)
    maximum = rules_for_display(session, now=now).measures_points
    areas = plan_areas(session, plan)
    existing = {row.unit_id: row for row in session.exec(select(MeasuresScore).where(
        MeasuresScore.plan_id == plan.id, MeasuresScore.year == year))}

    def check(values):
        score, problems = check_measures(values.get("score"), values.get("note"), maximum=maximum)
        return (score, (values.get("note") or "").strip()), problems
    checked = _checked_grid(areas, lambda unit_id: rows.get(unit_id) or {}, check)
    changed = store_grid(session, checked, existing, lambda unit_id, entry, row: store_measures(
        session, plan, unit_id, year, *entry, row, actor=actor, now=now))
    audit.record(session, actor=actor, action="measures.saved", now=now,
                 summary=f"评定{plan.title} {year}年各地区节能措施得分：改动 {changed} 个地区",
                 details={"plan": plan.slug, "year": year, "changed": changed})
    session.commit()
    return changed


def store_measures(session: Session, plan: Plan, unit_id: int, year: int, score: Decimal, note: str,
                   row: MeasuresScore | None, *, actor, now: datetime) -> str:
    if row is None:
        session.add(MeasuresScore(plan_id=plan.id, unit_id=unit_id, year=year, score=score, note=note,
                                  updated_dt=now, updated_by_id=getattr(actor, "id", None)))
        return "created"
    if row.score == score and row.note == note:
        return "unchanged"
    row.score, row.note, row.updated_dt, row.updated_by_id = score, note, now, getattr(actor, "id", None)
    return "updated"
