"""The energy-intensity evaluation of one area (三、(一), 附件 1), as pure functions over Decimals.

Every figure is computed in a 40-digit decimal context (`Decimal.ln()` for the logarithms). Fractions
are stored and shown with 6 decimals ("0.113043"). Judgements — on the path or not (r ≥ R_k), the
share c of the path against the scoring steps, the incentive target reached — are made on the full
figures rounded to 10 decimals, so that arithmetic noise in the 40th digit never flips a boundary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext

from tracker.evaluations.models import EvaluationKind, PathShape, RuleSet
from tracker.evaluations.services.rules import AREA_GRADES, bands_of, grade_for

CONTEXT = Context(prec=40)
SIX = Decimal("0.000001")
#: the precision judgements are made at
JUDGE = Decimal("1E-10")
ONE = Decimal(1)


def q6(value: Decimal) -> Decimal:
    """A fraction (or an intensity) as stored and shown: 6 decimals, half up."""
    return value.quantize(SIX, rounding=ROUND_HALF_UP)


def judged(value: Decimal) -> Decimal:
    return value.quantize(JUDGE, rounding=ROUND_HALF_UP)


def plain(value: Decimal | None) -> str | None:
    """A Decimal without exponent or trailing zeros: 36.0 → "36", 4E+1 → "40"."""
    if value is None:
        return None
    return format(value.normalize(), "f")


def pct(fraction: Decimal) -> str:
    return f"{format((fraction * 100).quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP), 'f')}%"


def f6(value: Decimal) -> str:
    return format(q6(value), "f")


@dataclass(frozen=True)
class YearFigures:
    """One area's figures for one year, in 吨标准煤 and 万元 (2020 comparable prices)."""

    year: int
    energy_tce: Decimal
    gdp_10k_yuan: Decimal
    renewable_tce: Decimal
    feedstock_tce: Decimal
    expected_total_tce: Decimal | None = None

    @property
    def assessed_tce(self) -> Decimal:
        """考核能耗: total less new renewable electricity and feedstock."""
        return self.energy_tce - self.renewable_tce - self.feedstock_tce

    @property
    def is_usable(self) -> bool:
        return self.gdp_10k_yuan > 0 and self.assessed_tce > 0

    def as_dict(self) -> dict:
        return {"year": self.year, "energy_tce": plain(self.energy_tce), "gdp_10k_yuan": plain(self.gdp_10k_yuan),
                "renewable_tce": plain(self.renewable_tce), "feedstock_tce": plain(self.feedstock_tce),
                "expected_total_tce": plain(self.expected_total_tce)}


@dataclass(frozen=True)
class Period:
    """What is evaluated: the kind, the year, the base year (plan start − 1) and the plan's length n."""

    kind: EvaluationKind
    year: int
    base_year: int
    plan_years: int

    @property
    def k(self) -> int:
        return self.year - self.base_year


@dataclass(frozen=True)
class AreaInputs:
    area: str
    basic_pct: Decimal | None
    incentive_pct: Decimal | None
    base: YearFigures | None
    current: YearFigures | None
    measures_score: Decimal | None
    measures_note: str = ""
    #: the years between the base and the evaluated year that have figures (for the chart)
    history: tuple[YearFigures, ...] = ()


@dataclass
class AreaOutcome:
    intensity: Decimal | None = None
    base_intensity: Decimal | None = None
    cumulative_reduction: Decimal | None = None
    required_reduction: Decimal | None = None
    share: Decimal | None = None
    target_points: Decimal | None = None
    measures_points: Decimal | None = None
    total: Decimal | None = None
    grade: str | None = None
    is_vetoed: bool = False
    is_total_exempt: bool = False
    is_on_schedule: bool | None = None
    missing_inputs: list[str] = field(default_factory=list)
    explanation: list[dict] = field(default_factory=list)


# --- the formulas ---------------------------------------------------------------------------------

def intensity_of(figures: YearFigures) -> Decimal:
    """I = assessed energy ÷ GDP, 吨标准煤/万元."""
    with localcontext(CONTEXT):
        return figures.assessed_tce / figures.gdp_10k_yuan


def cumulative_reduction(base_intensity: Decimal, intensity: Decimal) -> Decimal:
    """r = 1 − I_k / I_base."""
    with localcontext(CONTEXT):
        return ONE - intensity / base_intensity


def required_reduction(basic: Decimal, k: int, n: int, shape: PathShape) -> Decimal:
    """R_k: geometric 1 − (1 − T)^(k/n) (序时进度), or linear T·k/n; `basic` is T as a fraction."""
    with localcontext(CONTEXT):
        if k <= 0:
            return Decimal(0)
        if shape is PathShape.linear:
            return basic * Decimal(k) / Decimal(n)
        if k == n:
            return +basic
        return ONE - (ONE - basic) ** (Decimal(k) / Decimal(n))


def path_share(r: Decimal, required: Decimal) -> Decimal:
    """c = ln(1 − r) / ln(1 − R_k): the share of the required path achieved; 0 when r ≤ 0."""
    with localcontext(CONTEXT):
        if r <= 0:
            return Decimal(0)
        return (ONE - r).ln() / (ONE - required).ln()


def target_points_for(share: Decimal, rules: RuleSet) -> tuple[Decimal, str]:
    """The target part and, in words, the rule that gave it.

    c ≥ 1: full points + a bonus per full 10 % beyond the path, capped; else full × ⌊c × 10⌋ / 10,
    and 0 when c is below the minimum share.
    """
    c = judged(share)
    full, step, cap, floor = rules.target_points, rules.bonus_per_step, rules.bonus_cap, rules.min_share
    with localcontext(CONTEXT):
        if c >= 1:
            steps = int(((c - ONE) * 10).to_integral_value(rounding=ROUND_FLOOR))
            bonus = min(cap, step * steps)
            points = full + bonus
            return points, (f"c = {f6(share)} ≥ 1，达到序时进度得 {plain(full)} 分；超过序时进度 {steps} 个整 10%，"
                            f"加 min({plain(step)} × {steps}, {plain(cap)}) = {plain(bonus)} 分；"
                            f"目标得分 {plain(full)} + {plain(bonus)} = {plain(points)}")
        if c < floor:
            return Decimal(0), f"c = {f6(share)} < {plain(floor)}，目标得分为 0"
        tenths = (c * 10).to_integral_value(rounding=ROUND_FLOOR)
        points = full * tenths / 10
        return points, (f"{plain(floor)} ≤ c = {f6(share)} < 1，目标得分 = {plain(full)} × ⌊c × 10⌋ ÷ 10 = "
                        f"{plain(full)} × {plain(tenths)} ÷ 10 = {plain(points)}")


def grade_rank(grade: str | None) -> int:
    """Higher is better; None (not graded) is lowest."""
    return len(AREA_GRADES) - AREA_GRADES.index(grade) if grade in AREA_GRADES else 0


# --- one area, explained --------------------------------------------------------------------------

TARGET_RULE = ("c ≥ 1：得 {full} 分，每超过序时进度 10%（c 每满 0.1）加 {step} 分，最多加 {cap} 分；"
               "{floor} ≤ c < 1：{full} × ⌊c × 10⌋ ÷ 10；c < {floor}：0 分")


def _step(key: str, title: str, rule: str, text: str, value: str | None = None) -> dict:
    return {"key": key, "title": title, "rule": rule, "text": text, "value": value}


def missing_labels(period: Period) -> dict[str, str]:
    return {"base": f"{period.base_year}年（基期）能源数据", "current": f"{period.year}年能源数据",
            "measures": f"{period.year}年节能措施评分", "basic": "能耗强度降低基本目标（附件1）"}


def evaluate_area(inputs: AreaInputs, period: Period, rules: RuleSet) -> AreaOutcome:
    """Compute one area's result with every intermediate figure and the rule applied at each step."""
    out = AreaOutcome()
    labels = missing_labels(period)
    base_year, year, k, n = period.base_year, period.year, period.k, period.plan_years
    steps = out.explanation
    steps.append({"key": "inputs", "title": "输入数据", "area": inputs.area,
                  "basic_target_pct": plain(inputs.basic_pct), "incentive_target_pct": plain(inputs.incentive_pct),
                  "base": inputs.base.as_dict() if inputs.base else None,
                  "current": inputs.current.as_dict() if inputs.current else None,
                  "measures_score": plain(inputs.measures_score), "measures_note": inputs.measures_note,
                  "measures_max": plain(rules.measures_points), "base_year": base_year, "year": year, "k": k,
                  "plan_years": n, "kind": period.kind.value, "rule_version": rules.version,
                  "path_shape": rules.path_shape.value})

    base, current = inputs.base, inputs.current
    if base is None:
        out.missing_inputs.append(labels["base"])
    elif not base.is_usable:
        out.missing_inputs.append(f"{labels['base']}（考核能耗和地区生产总值应大于 0）")
    if current is None:
        out.missing_inputs.append(labels["current"])
    elif not current.is_usable:
        out.missing_inputs.append(f"{labels['current']}（考核能耗和地区生产总值应大于 0）")
    basic = inputs.basic_pct / 100 if inputs.basic_pct is not None and 0 < inputs.basic_pct < 100 else None
    if basic is None:
        out.missing_inputs.append(labels["basic"])
    if inputs.measures_score is None:
        out.missing_inputs.append(labels["measures"])

    assessed_rule = "考核能耗 = 能源消费总量 − 新增可再生能源电力消费量 − 原料用能（吨标准煤）"
    intensity_rule = "能耗强度 I = 考核能耗 ÷ 地区生产总值（2020年可比价，万元），单位 吨标准煤/万元"
    base_ok, current_ok = base is not None and base.is_usable, current is not None and current.is_usable
    for label, figures, ok, symbol in ((f"{base_year}年（基期）", base, base_ok, f"I_{base_year}"),
                                       (f"{year}年", current, current_ok, f"I_{year}")):
        if not ok:
            continue
        steps.append(_step(f"assessed_{figures.year}", f"{label}考核能耗", assessed_rule,
                           f"{plain(figures.energy_tce)} − {plain(figures.renewable_tce)} − "
                           f"{plain(figures.feedstock_tce)} = {plain(figures.assessed_tce)} 吨标准煤",
                           plain(figures.assessed_tce)))
        value = intensity_of(figures)
        steps.append(_step(f"intensity_{figures.year}", f"{label}能耗强度", intensity_rule,
                           f"{symbol} = {plain(figures.assessed_tce)} ÷ {plain(figures.gdp_10k_yuan)} = "
                           f"{f6(value)} 吨标准煤/万元", f6(value)))
        if figures is base:
            out.base_intensity = value
        else:
            out.intensity = value

    r = None
    if out.base_intensity is not None and out.intensity is not None:
        r = cumulative_reduction(out.base_intensity, out.intensity)
        out.cumulative_reduction = q6(r)
        steps.append(_step("reduction", "累计降低率 r", f"r = 1 − I_{year} ÷ I_{base_year}（k = {year} − {base_year} = {k}）",
                           f"r = 1 − {f6(out.intensity)} ÷ {f6(out.base_intensity)} = {f6(r)}（{pct(r)}）", f6(r)))

    required = None
    if basic is not None:
        required = required_reduction(basic, k, n, rules.path_shape)
        out.required_reduction = q6(required)
        if rules.path_shape is PathShape.linear:
            rule = f"线性路径：R_k = T × k ÷ n（T 为基本目标，n = {n} 为规划年数）"
            text = f"R_{k} = {plain(basic)} × {k} ÷ {n} = {f6(required)}（{pct(required)}）"
        else:
            rule = f"几何路径（序时进度）：R_k = 1 − (1 − T)^(k/n)（T 为基本目标，n = {n} 为规划年数）"
            text = f"R_{k} = 1 − (1 − {plain(basic)})^({k}/{n}) = {f6(required)}（{pct(required)}）"
        steps.append(_step("required", "序时进度要求 R_k", rule, f"基本目标 T = {plain(inputs.basic_pct)}%；{text}",
                           f6(required)))

    if r is not None and required is not None:
        out.is_on_schedule = judged(r) >= judged(required)
        relation = "≥" if out.is_on_schedule else "<"
        detail = ""
        if f6(r) == f6(required):
            detail = f"（按 10 位小数比较：{format(judged(r), 'f')} {relation} {format(judged(required), 'f')}）"
        steps.append(_step("schedule", "是否达到序时进度", "r ≥ R_k 为达到序时进度",
                           f"r = {f6(r)} {relation} R_{k} = {f6(required)}{detail}，"
                           + ("达到序时进度" if out.is_on_schedule else "未达到序时进度"), None))
        share = path_share(r, required)
        out.share = share
        if r <= 0:
            text = f"r = {f6(r)} ≤ 0，c = 0"
        else:
            with localcontext(CONTEXT):
                top, bottom = (ONE - r).ln(), (ONE - required).ln()
            text = (f"c = ln(1 − {f6(r)}) ÷ ln(1 − {f6(required)}) = {f6(top)} ÷ {f6(bottom)} = {f6(share)}")
        steps.append(_step("share", "完成系数 c（已完成序时进度的比例）", "c = ln(1 − r) ÷ ln(1 − R_k)；r ≤ 0 时 c = 0",
                           text, f6(share)))
        points, points_text = target_points_for(share, rules)
        out.target_points = points
        steps.append(_step("target_points", "目标得分",
                           TARGET_RULE.format(full=plain(rules.target_points), step=plain(rules.bonus_per_step),
                                              cap=plain(rules.bonus_cap), floor=plain(rules.min_share)),
                           points_text, plain(points)))

    if inputs.measures_score is not None:
        out.measures_points = inputs.measures_score
        note = inputs.measures_note.strip() or "（未填写评分说明）"
        steps.append(_step("measures", "节能措施得分", f"由统筹单位按清单评分，0–{plain(rules.measures_points)} 分",
                           f"{plain(inputs.measures_score)} 分（满分 {plain(rules.measures_points)}）：{note}",
                           plain(inputs.measures_score)))

    if r is not None and inputs.incentive_pct is not None:
        incentive = inputs.incentive_pct / 100
        out.is_total_exempt = judged(r) >= judged(incentive)
    steps.append(_total_check(inputs, r, out.is_total_exempt))

    if not out.missing_inputs and out.target_points is not None and out.measures_points is not None:
        bands = bands_of(rules.bands)
        out.total = out.target_points + out.measures_points
        steps.append(_step("total", "总分", "总分 = 目标得分 + 节能措施得分",
                           f"{plain(out.target_points)} + {plain(out.measures_points)} = {plain(out.total)}",
                           plain(out.total)))
        by_score = grade_for(out.total, bands)
        band_text = "；".join(f"≥ {plain(minimum)} {grade}" for minimum, grade in bands[:-1]) + f"；其余 {bands[-1][1]}"
        steps.append(_step("band", "按总分定等级", band_text,
                           f"总分 {plain(out.total)}，等级为“{by_score}”", by_score))
        grade = by_score
        if not out.is_on_schedule:
            if rules.is_veto_enabled:
                out.is_vetoed = True
                grade = AREA_GRADES[-1]
                text = (f"未达到序时进度（r < R_{k}），一票否决：等级为“{grade}”"
                        + (f"（按总分本应为“{by_score}”）" if by_score != grade else ""))
            else:
                text = "未达到序时进度，但规则已关闭一票否决，等级按总分确定"
        else:
            text = "达到序时进度，不适用一票否决"
        steps.append(_step("veto", "一票否决", "未达到序时进度的地区，无论得分多少，等级均为“未完成”"
                           if rules.is_veto_enabled else "一票否决已关闭", text, grade))
        out.grade = grade
    else:
        steps.append(_step("missing", "缺少数据，不评定等级", "缺少任何一项输入的地区列出所缺数据，不评定等级",
                           "缺少：" + "、".join(out.missing_inputs), None))

    if period.kind is EvaluationKind.final:
        steps.append(_step("overall", "统筹考核", "五年考核按累计降低率统筹考核，个别年度未完成不作为最终结论",
                           f"以 {year} 年相对 {base_year} 年的累计降低率评定五年考核结果", None))
    elif period.kind is EvaluationKind.midterm:
        steps.append(_step("overall", "中期评估", "中期评估以累计降低率对照序时进度，公式与年度评价相同",
                           f"以 {year} 年相对 {base_year} 年的累计降低率（k = {k}）评估", None))
    steps.append(_series(inputs, period, rules, out.base_intensity, basic))
    return out


def _total_check(inputs: AreaInputs, r: Decimal | None, exempt: bool) -> dict:
    rule = ("累计降低率达到激励目标的地区，能源消费总量免予考核；其余地区将能源消费总量与预期总量比较，"
            "地区生产总值增速超过预期增速的，预期总量可相应调整")
    current = inputs.current
    if r is not None and inputs.incentive_pct is not None and exempt:
        return {**_step("total_check", "能源消费总量考核", rule,
                        f"r = {f6(r)} ≥ 激励目标 {plain(inputs.incentive_pct)}%，能源消费总量免予考核", "exempt"),
                "outcome": "exempt"}
    prefix = (f"r = {f6(r)} < 激励目标 {plain(inputs.incentive_pct)}%，不免考核；"
              if r is not None and inputs.incentive_pct is not None else
              "未给出激励目标，不适用免考核；" if inputs.incentive_pct is None else "")
    if current is None or current.expected_total_tce is None:
        return {**_step("total_check", "能源消费总量考核", rule, prefix + "未提供预期能源消费总量，不作总量比较",
                        "no_expected"), "outcome": "no_expected"}
    difference = current.energy_tce - current.expected_total_tce
    if difference <= 0:
        return {**_step("total_check", "能源消费总量考核", rule,
                        prefix + f"能源消费总量 {plain(current.energy_tce)} ≤ 预期 {plain(current.expected_total_tce)}"
                        " 吨标准煤，符合预期", "within"), "outcome": "within"}
    return {**_step("total_check", "能源消费总量考核", rule,
                    prefix + f"能源消费总量 {plain(current.energy_tce)} 超过预期 {plain(current.expected_total_tce)}"
                    f" 吨标准煤 {plain(difference)} 吨标准煤；若该地区生产总值增速超过预期增速，预期总量可相应调整后再比较",
                    "over"), "outcome": "over"}


def _series(inputs: AreaInputs, period: Period, rules: RuleSet, base_intensity: Decimal | None,
            basic: Decimal | None) -> dict:
    """The cumulative reduction by year against the path and the targets, for the area's chart."""
    years = list(range(period.base_year, period.base_year + period.plan_years + 1))
    by_year = {f.year: f for f in inputs.history}
    if inputs.current is not None:
        by_year[inputs.current.year] = inputs.current
    actual: list[str | None] = []
    for year in years:
        figures = by_year.get(year)
        if year == period.base_year and base_intensity is not None:
            actual.append("0")
        elif base_intensity is not None and figures is not None and figures.is_usable and year <= period.year:
            actual.append(f6(cumulative_reduction(base_intensity, intensity_of(figures))))
        else:
            actual.append(None)
    required = ([f6(required_reduction(basic, year - period.base_year, period.plan_years, rules.path_shape))
                 for year in years] if basic is not None else [])
    return {"key": "series", "title": "历年累计降低率", "years": years, "actual": actual, "required": required,
            "basic": plain(basic) if basic is not None else None,
            "incentive": plain(inputs.incentive_pct / 100) if inputs.incentive_pct is not None else None,
            "path_shape": rules.path_shape.value}
