"""The energy-intensity formulas, worked by hand: five areas on the geometric and on the linear path.

Every case: plan 2021–2025, base year 2020, annual evaluation of 2023, so k = 3 and n = 5.
Assessed energy = total − new renewable − feedstock; I = assessed ÷ GDP; r = 1 − I_2023 ÷ I_2020.
Geometric R_3 = 1 − (1 − T)^(3/5); linear R_3 = T × 3/5. c = ln(1 − r) ÷ ln(1 − R_3).
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.evaluations.models import EvaluationKind, PathShape
from tracker.evaluations.services.compute import (AreaInputs, Period, YearFigures, evaluate_area, grade_rank,
                                                  path_share, q6, required_reduction, target_points_for)
from tracker.evaluations.services.rules import bands_of, default_rule_set, grade_for

NOW = datetime(2025, 10, 20, tzinfo=timezone.utc)
PERIOD = Period(kind=EvaluationKind.annual, year=2023, base_year=2020, plan_years=5)


def rules(shape: str = "geometric"):
    rule_set = default_rule_set(now=NOW)
    rule_set.path_shape = PathShape(shape)
    return rule_set


def figures(year, energy, gdp, renewable=0, feedstock=0, expected=None) -> YearFigures:
    return YearFigures(year, D(energy), D(gdp), D(renewable), D(feedstock), None if expected is None else D(expected))


def area(name, basic, incentive, base, current, measures, note="") -> AreaInputs:
    return AreaInputs(name, D(basic), D(incentive) if incentive is not None else None, base, current,
                      D(measures) if measures is not None else None, note)


def step(outcome, key):
    return next(s for s in outcome.explanation if s["key"] == key)


# --- 甲区: on schedule ------------------------------------------------------------------------------
# 2020: 1000 tce, GDP 1000 → I_2020 = 1.000000.  2023: 990 tce, GDP 1100 → I_2023 = 0.900000.
# r = 1 − 0.9 ÷ 1 = 0.100000.  T = 12 %.
# geometric: R_3 = 1 − 0.88^0.6 = 1 − e^(0.6 × ln 0.88) = 1 − e^(−0.076700) = 0.073832 ≤ r → on schedule;
#            c = ln 0.9 ÷ ln 0.926168 = −0.105361 ÷ −0.076700 = 1.373670 → 3 full 10 % → 40 + min(9, 9) = 49
# linear:    R_3 = 0.12 × 3/5 = 0.072000; c = ln 0.9 ÷ ln 0.928 = −0.105361 ÷ −0.074724 = 1.410004 → 4 steps,
#            capped at +9 → 49
# measures 40 → total 89 → [80, 95) 完成.  Expected total 980 < 990: over by 10, not exempt (r < 13.6 %).

@pytest.mark.parametrize("shape, required, share", [("geometric", "0.073832", "1.373670"),
                                                    ("linear", "0.072000", "1.410004")])
def test_an_area_on_schedule_gets_full_target_points_and_its_grade_by_total(shape, required, share):
    outcome = evaluate_area(area("甲区", 12, "13.6", figures(2020, 1000, 1000), figures(2023, 990, 1100, expected=980),
                                 40), PERIOD, rules(shape))
    assert q6(outcome.intensity) == D("0.900000") and q6(outcome.base_intensity) == D("1.000000")
    assert outcome.cumulative_reduction == D("0.100000")
    assert outcome.required_reduction == D(required)
    assert format(q6(outcome.share), "f") == share
    assert (outcome.target_points, outcome.measures_points, outcome.total) == (D(49), D(40), D(89))
    assert outcome.grade == "完成" and outcome.is_on_schedule and not outcome.is_vetoed
    assert not outcome.is_total_exempt
    check = step(outcome, "total_check")
    assert check["outcome"] == "over" and "超过预期 980" in check["text"] and "可相应调整" in check["text"]
    assert "r = 0.100000 ≥ R_3" in step(outcome, "schedule")["text"]


# --- 乙区: vetoed despite a high measures score -------------------------------------------------------
# 2020: 2000 tce, GDP 1000 → I = 2.  2023: 1880 tce, GDP 1000 → I = 1.88; r = 1 − 1.88 ÷ 2 = 0.060000.  T = 13 %.
# geometric: R_3 = 1 − 0.87^0.6 = 0.080162 > r → off schedule; c = ln 0.94 ÷ ln 0.919838 = 0.740515 → ⌊7.4⌋ = 7
#            → 40 × 7/10 = 28
# linear:    R_3 = 0.13 × 0.6 = 0.078000 > r; c = ln 0.94 ÷ ln 0.922 = 0.761918 → 28
# measures 60 (the maximum) → total 88, which alone would be 完成 — the veto makes it 未完成.

@pytest.mark.parametrize("shape, required", [("geometric", "0.080162"), ("linear", "0.078000")])
def test_an_area_off_the_path_is_vetoed_whatever_its_measures_score(shape, required):
    outcome = evaluate_area(area("乙区", 13, 14, figures(2020, 2000, 1000), figures(2023, 1880, 1000), 60),
                            PERIOD, rules(shape))
    assert outcome.cumulative_reduction == D("0.060000") and outcome.required_reduction == D(required)
    assert (outcome.target_points, outcome.total) == (D(28), D(88))
    assert outcome.grade == "未完成" and outcome.is_vetoed
    assert "按总分本应为“完成”" in step(outcome, "veto")["text"]


def test_with_the_veto_switched_off_the_grade_follows_the_total():
    rule_set = rules()
    rule_set.is_veto_enabled = False
    outcome = evaluate_area(area("乙区", 13, 14, figures(2020, 2000, 1000), figures(2023, 1880, 1000), 60),
                            PERIOD, rule_set)
    assert outcome.grade == "完成" and not outcome.is_vetoed


# --- 丙县: saved by the feedstock exclusion -----------------------------------------------------------
# 2020: 1000 tce, GDP 1000 → I = 1.  2023: 1000 tce of which 50 feedstock, GDP 1050.  T = 11 %.
# Without the exclusion: I = 1000 ÷ 1050 = 0.952381, r = 0.047619 < R_3 (geometric 0.067532, linear 0.066000)
#   → vetoed, 未完成.
# With it: assessed 1000 − 0 − 50 = 950; I = 950 ÷ 1050 = 0.904762; r = 0.095238 ≥ R_3 → on schedule.
#   geometric c = ln 0.904762 ÷ ln 0.932468 = 1.431394; linear c = ln 0.904762 ÷ ln 0.934 = 1.465805 → 49 both.
#   measures 35 → total 84 → 完成.

@pytest.mark.parametrize("shape, required", [("geometric", "0.067532"), ("linear", "0.066000")])
def test_the_feedstock_exclusion_can_put_an_area_on_schedule(shape, required):
    with_exclusion = evaluate_area(area("丙县", 11, "12.5", figures(2020, 1000, 1000),
                                        figures(2023, 1000, 1050, feedstock=50), 35), PERIOD, rules(shape))
    without = evaluate_area(area("丙县", 11, "12.5", figures(2020, 1000, 1000), figures(2023, 1000, 1050), 35),
                            PERIOD, rules(shape))
    assert without.cumulative_reduction == D("0.047619") and without.grade == "未完成" and without.is_vetoed
    assert q6(with_exclusion.intensity) == D("0.904762")
    assert with_exclusion.cumulative_reduction == D("0.095238") and with_exclusion.required_reduction == D(required)
    assert (with_exclusion.target_points, with_exclusion.total, with_exclusion.grade) == (D(49), D(84), "完成")
    assert "1000 − 0 − 50 = 950 吨标准煤" in step(with_exclusion, "assessed_2023")["text"]


# --- 丁旗: reaches its incentive target ----------------------------------------------------------------
# 2020: I = 1.  2023: 1032 tce, GDP 1200 → I = 0.86; r = 0.140000 = incentive 14 % → exempt from the
# total-consumption check (its total 1032 is above the expected 1000, which no longer matters).
# geometric R_3 = 0.080162, c = ln 0.86 ÷ ln 0.919838 = 1.805025; linear R_3 = 0.078, c = 1.857195 → 49.
# measures 55 → total 104 → ≥ 95 超额完成.

@pytest.mark.parametrize("shape", ["geometric", "linear"])
def test_an_area_reaching_its_incentive_target_is_exempt_from_the_total_check(shape):
    outcome = evaluate_area(area("丁旗", 13, 14, figures(2020, 1000, 1000), figures(2023, 1032, 1200, expected=1000),
                                 55), PERIOD, rules(shape))
    assert outcome.cumulative_reduction == D("0.140000")
    assert outcome.is_total_exempt and step(outcome, "total_check")["outcome"] == "exempt"
    assert (outcome.target_points, outcome.total, outcome.grade) == (D(49), D(104), "超额完成")


# --- 戊县: missing data --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, required", [("geometric", "0.073832"), ("linear", "0.072000")])
def test_an_area_with_missing_data_lists_exactly_what_is_missing_and_gets_no_grade(shape, required):
    outcome = evaluate_area(area("戊县", 12, "13.5", figures(2020, 1000, 1000), None, 50), PERIOD, rules(shape))
    assert outcome.missing_inputs == ["2023年能源数据"]
    assert outcome.grade is None and outcome.total is None and outcome.intensity is None
    assert outcome.required_reduction == D(required)  # what can be known is still shown
    nothing = evaluate_area(area("戊县", 12, "13.5", None, None, None), PERIOD, rules(shape))
    assert nothing.missing_inputs == ["2020年（基期）能源数据", "2023年能源数据", "2023年节能措施评分"]


# --- the steps of the target part, and the bands ----------------------------------------------------

@pytest.mark.parametrize("share, points", [
    ("0", 0), ("0.49", 0), ("0.4999999", 0), ("0.5", 20), ("0.59", 20), ("0.6", 24), ("0.75", 28), ("0.99", 36),
    ("1", 40), ("1.09", 40), ("1.1", 43), ("1.19", 43), ("1.2", 46), ("1.3", 49), ("1.5", 49), ("9", 49)])
def test_the_target_part_has_bonus_steps_capped_at_nine_and_a_floor_at_half_the_path(share, points):
    assert target_points_for(D(share), rules())[0] == D(points)


def test_a_share_a_hair_below_a_step_because_of_arithmetic_still_reaches_it():
    assert target_points_for(D("1.0999999999999999999999"), rules())[0] == D(43)


def test_an_area_whose_intensity_rose_has_a_share_of_zero_and_no_target_points():
    outcome = evaluate_area(area("x", 12, 13, figures(2020, 1000, 1000), figures(2023, 1100, 1000), 60), PERIOD,
                            rules())
    assert outcome.cumulative_reduction == D("-0.100000") and outcome.share == 0 and outcome.target_points == 0
    assert outcome.grade == "未完成"


@pytest.mark.parametrize("total, grade", [("109", "超额完成"), ("95", "超额完成"), ("94.99", "完成"), ("80", "完成"),
                                          ("79.5", "基本完成"), ("60", "基本完成"), ("59.9", "未完成"), ("0", "未完成")])
def test_the_grade_bands_follow_the_total(total, grade):
    assert grade_for(D(total), bands_of(rules().bands)) == grade


def test_the_path_reaches_the_basic_target_in_the_last_year_on_both_shapes():
    for shape in PathShape:
        assert required_reduction(D("0.12"), 5, 5, shape) == D("0.12")
        assert required_reduction(D("0.12"), 0, 5, shape) == 0
    # 1 − 0.88^(1/5) = 1 − e^(ln 0.88 ÷ 5) = 1 − e^(−0.025567) = 0.025243
    assert q6(required_reduction(D("0.12"), 1, 5, PathShape.geometric)) == D("0.025243")
    assert path_share(D("0.12"), D("0.12")) == 1


def test_the_final_review_judges_the_cumulative_reduction_of_the_five_years():
    final = Period(kind=EvaluationKind.final, year=2025, base_year=2020, plan_years=5)
    # I_2025 = 880 ÷ 1000 = 0.88 → r = 0.12 = T → R_5 = T, c = 1 → 40; measures 45 → 85 完成
    outcome = evaluate_area(area("甲区", 12, "13.6", figures(2020, 1000, 1000), figures(2025, 880, 1000), 45),
                            final, rules())
    assert outcome.cumulative_reduction == D("0.120000") and outcome.required_reduction == D("0.120000")
    assert (outcome.target_points, outcome.grade) == (D(40), "完成")
    assert "统筹考核" in step(outcome, "overall")["title"]


# --- property: more reduction never lowers the grade ---------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(basic=st.integers(min_value=5, max_value=20), measures=st.integers(min_value=0, max_value=60),
       first=st.integers(min_value=600, max_value=1300), cut=st.integers(min_value=0, max_value=400),
       shape=st.sampled_from(["geometric", "linear"]), year=st.integers(min_value=2021, max_value=2025),
       feedstock=st.integers(min_value=0, max_value=100))
def test_more_reduction_never_lowers_an_areas_grade(basic, measures, first, cut, shape, year, feedstock):
    period = Period(kind=EvaluationKind.annual, year=year, base_year=2020, plan_years=5)
    base = figures(2020, 1000, 1000)

    def grade(energy):
        current = figures(year, energy, 1000, feedstock=min(feedstock, energy - 1))
        return evaluate_area(area("x", basic, basic + 1, base, current, measures), period, rules(shape))

    worse, better = grade(first), grade(max(first - cut, 150))
    assert better.cumulative_reduction >= worse.cumulative_reduction
    assert grade_rank(better.grade) >= grade_rank(worse.grade)
    assert better.target_points >= worse.target_points
