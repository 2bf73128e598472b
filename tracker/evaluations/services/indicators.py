"""附件 2 indicators: yearly values, and progress from the 2020 baseline towards the 2025 target.

Progress = (latest value − baseline) ÷ (target − baseline) × 100, in percent, shown only when the annex
gives both a baseline and a target that differ; otherwise the page says why. The import's flags stay beside.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

from sqlmodel import Session, select

from tracker.accounts.permissions import can_enter_indicator_values, require
from tracker.audit import services as audit
from tracker.errors import NotFound
from tracker.evaluations.services.compute import CONTEXT
from tracker.evaluations.services.data_entry import CellErrors, parse_quantity, plan_years, store_grid
from tracker.reporting.models import IndicatorValue
from tracker.tasks.models import Indicator, Plan

NOTE_MAX = 200


@dataclass
class IndicatorProgress:
    indicator: Indicator
    values: dict[int, IndicatorValue] = field(default_factory=dict)
    latest_year: int | None = None
    latest_value: Decimal | None = None
    progress_pct: Decimal | None = None
    #: why there is no progress figure, in words a person can act on
    reason: str | None = None


def progress_of(indicator: Indicator, values: dict[int, IndicatorValue]) -> IndicatorProgress:
    found = IndicatorProgress(indicator=indicator, values=values)
    later = sorted(year for year in values if indicator.baseline_year is None or year > indicator.baseline_year)
    if later:
        found.latest_year = later[-1]
        found.latest_value = values[later[-1]].value
    baseline, target = indicator.baseline_value, indicator.target_value
    if baseline is None and target is None:
        found.reason = "附件2未给出基期值和目标值，无法计算进度"
    elif baseline is None:
        found.reason = f"附件2未给出{indicator.baseline_year or '基期'}年实际值，无法计算进度"
    elif target is None:
        found.reason = f"附件2未给出{indicator.target_year or '目标'}年目标值，无法计算进度"
    elif baseline == target:
        found.reason = "基期值与目标值相同，无法按进度计算"
    elif found.latest_value is None:
        found.reason = "尚未填报基期之后的年度数值"
    else:
        with localcontext(CONTEXT):
            share = (found.latest_value - baseline) / (target - baseline) * 100
        found.progress_pct = share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return found


@dataclass
class IndicatorTable:
    plan: Plan
    years: list[int]
    rows: list[IndicatorProgress]


def indicator_table(session: Session, plan: Plan) -> IndicatorTable:
    """Every 附件 2 indicator with its yearly values and progress, in two queries."""
    base, end = plan_years(plan)
    indicators = session.exec(select(Indicator).where(Indicator.plan_id == plan.id)
                              .order_by(Indicator.position, Indicator.id)).all()
    values: dict[int, dict[int, IndicatorValue]] = {}
    if indicators:
        for row in session.exec(select(IndicatorValue).where(
                IndicatorValue.indicator_id.in_([i.id for i in indicators]))):
            values.setdefault(row.indicator_id, {})[row.year] = row
    return IndicatorTable(plan=plan, years=list(range(base, end + 1)),
                          rows=[progress_of(i, values.get(i.id, {})) for i in indicators])


def get_indicator(session: Session, plan: Plan, indicator_id: int) -> IndicatorProgress:
    """:raises NotFound: if the plan has no such indicator"""
    indicator = session.exec(select(Indicator).where(Indicator.id == indicator_id,
                                                     Indicator.plan_id == plan.id)).first()
    if indicator is None:
        raise NotFound("没有这个指标")
    rows = session.exec(select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id)).all()
    return progress_of(indicator, {row.year: row for row in rows})


def save_indicator_values(session: Session, plan: Plan, *, values: dict[tuple[int, int], str | None], actor,
                          now: datetime) -> int:
    """Store the yearly values typed in the indicator grid; a blank cell removes a stored value.

    `values` maps (indicator id, year) to the typed text; cells of other plans or years are ignored.

    :raises PermissionDenied: unless `actor` is a coordinator or the office
    :raises CellErrors: naming each wrong cell (`value-<indicator id>-<year>`); nothing is written
    """
    require(can_enter_indicator_values(actor), "只有统筹单位和督查科可以录入指标数值")
    base, end = plan_years(plan)
    indicators = {i.id: i for i in session.exec(select(Indicator).where(Indicator.plan_id == plan.id))}
    existing = {(row.indicator_id, row.year): row for row in session.exec(select(IndicatorValue).where(
        IndicatorValue.indicator_id.in_(list(indicators) or [0])))}
    errors: dict[str, str] = {}
    parsed: dict[tuple[int, int], Decimal | None] = {}
    for (indicator_id, year), text in values.items():
        if indicator_id not in indicators or not base <= year <= end:
            continue
        try:
            parsed[(indicator_id, year)] = parse_quantity(text)
        except ValueError as exc:
            errors[f"value-{indicator_id}-{year}"] = f"{indicators[indicator_id].name} {year}年数值{exc}"
    if errors:
        raise CellErrors(errors)

    def store(key, value, row) -> str:
        if row is None:
            session.add(IndicatorValue(indicator_id=key[0], year=key[1], value=value, updated_dt=now,
                                       updated_by_id=getattr(actor, "id", None)))
            return "created"
        if row.value == value:
            return "unchanged"
        row.value, row.updated_dt, row.updated_by_id = value, now, getattr(actor, "id", None)
        return "updated"
    changed = store_grid(session, parsed, existing, store)
    audit.record(session, actor=actor, action="indicator_values.saved", now=now,
                 summary=f"录入{plan.title}附件2指标年度数值：改动 {changed} 个",
                 details={"plan": plan.slug, "changed": changed})
    session.commit()
    return changed
