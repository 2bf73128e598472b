"""Evaluations as objects: versions, the lifecycle, publication that freezes, and versioned rules."""
from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.errors import Conflict, Invalid, PermissionDenied
from tracker.evaluations.models import AreaResult, Evaluation, EvaluationStatus, PathShape, RuleSet
from tracker.evaluations.services import data_entry, exports, lifecycle, publish, results, rules
from tracker.reporting.models import AreaEnergyData, MeasuresScore
from tests.conftest import NOW
from tests.evaluations.conftest import HAND_WORKED, add_areas, fill_hand_worked


def run(session, world, kind="annual", year=2023):
    return lifecycle.run_evaluation(session, world.plan, kind=kind, year=year, actor=COMMAND_LINE, now=NOW)


def by_area(report):
    return {a["area"]: a for a in report["areas"]}


def test_running_an_evaluation_grades_the_hand_worked_areas_and_ranks_them(session, hand_worked):
    evaluation = run(session, hand_worked)
    assert evaluation.status is EvaluationStatus.computed and evaluation.version == 1
    report = results.evaluation_report(session, evaluation)
    areas = by_area(report)
    assert [a["area"] for a in report["areas"]] == ["丁旗", "甲区", "乙区", "丙县", "戊县"]  # by total: 104, 89, 88, 84
    assert (areas["丁旗"]["rank"], areas["甲区"]["rank"], areas["乙区"]["rank"], areas["戊县"]["rank"]) == (1, 2, 3, None)
    assert {name: a["grade"] for name, a in areas.items()} == {
        "甲区": "完成", "乙区": "未完成", "丙县": "完成", "丁旗": "超额完成", "戊县": None}
    assert areas["乙区"]["is_vetoed"] and areas["丁旗"]["is_total_exempt"]
    assert areas["戊县"]["missing_inputs"] == ["2023年能源数据"]
    assert areas["甲区"]["cumulative_reduction"] == "0.100000" and areas["甲区"]["required_reduction"] == "0.073832"
    assert areas["甲区"]["total"] == "89" and areas["甲区"]["target_points"] == "49"
    assert areas["甲区"]["basic_target_pct"] == "12" and areas["甲区"]["incentive_target_pct"] == "13.6"
    assert report["rule_version"] == 1


def test_the_first_use_stores_the_default_rules_as_version_one(session, hand_worked):
    assert rules.current_rules(session) is None
    evaluation = run(session, hand_worked)
    stored = session.exec(select(RuleSet)).one()
    assert stored.version == 1 and stored.path_shape is PathShape.geometric and evaluation.rule_set_id == stored.id
    assert stored.bands == rules.DEFAULT_BANDS and stored.task_weights == rules.DEFAULT_TASK_WEIGHTS


def test_running_again_makes_a_new_version_and_both_stay(session, hand_worked):
    first, second = run(session, hand_worked), run(session, hand_worked)
    assert (first.version, second.version) == (1, 2) and first.id != second.id
    assert first.status is second.status is EvaluationStatus.computed
    assert session.exec(select(func.count()).select_from(AreaResult)).one() == 10


def test_the_lifecycle_goes_from_draft_through_collecting_to_computed_and_published(session, hand_worked, make_user):
    coordinator = make_user(UserRole.coordinator)
    draft = lifecycle.create_evaluation(session, hand_worked.plan, kind="midterm", year=2023, actor=coordinator, now=NOW)
    assert draft.status is EvaluationStatus.draft
    with pytest.raises(Conflict):
        lifecycle.create_evaluation(session, hand_worked.plan, kind="midterm", year=2023, actor=coordinator, now=NOW)
    lifecycle.open_collection(session, draft, actor=coordinator, now=NOW)
    assert draft.status is EvaluationStatus.collecting
    computed = lifecycle.compute_evaluation(session, draft, actor=coordinator, now=NOW)
    assert computed.id == draft.id and computed.status is EvaluationStatus.computed
    published = publish.publish_evaluation(session, computed, actor=coordinator, now=NOW)
    assert published.status is EvaluationStatus.published and published.published_by_id == coordinator.id
    with pytest.raises(Conflict):
        publish.publish_evaluation(session, computed, actor=coordinator, now=NOW)
    recomputed = lifecycle.compute_evaluation(session, published, actor=coordinator, now=NOW)
    assert recomputed.version == 2 and recomputed.id != published.id


@pytest.mark.parametrize("kind, year, message", [("midterm", 2024, "2023"), ("final", 2024, "2025"),
                                                 ("annual", 2026, "2021–2025"), ("weekly", 2023, "评价类型")])
def test_a_kind_and_year_that_do_not_fit_the_plan_are_refused_in_chinese(session, hand_worked, kind, year, message):
    with pytest.raises(Invalid, match=message):
        run(session, hand_worked, kind=kind, year=year)


def test_a_unit_user_and_a_leader_may_not_run_or_publish_an_evaluation(session, hand_worked, make_user):
    evaluation = run(session, hand_worked)
    for role in (UserRole.unit, UserRole.leader):
        user = make_user(role)
        with pytest.raises(PermissionDenied):
            lifecycle.run_evaluation(session, hand_worked.plan, kind="annual", year=2023, actor=user, now=NOW)
        with pytest.raises(PermissionDenied):
            publish.publish_evaluation(session, evaluation, actor=user, now=NOW)


def edit_every_input(session, world):
    """Change every figure, score, rule and name the evaluation used."""
    for row in session.exec(select(AreaEnergyData).where(AreaEnergyData.plan_id == world.plan.id)):
        row.energy_tce = row.energy_tce * 2
    for row in session.exec(select(MeasuresScore).where(MeasuresScore.plan_id == world.plan.id)):
        row.score, row.note = Decimal(1), "改过的说明"
    session.commit()


def test_a_published_evaluation_does_not_change_when_its_inputs_are_edited(session, hand_worked, make_user):
    office = make_user(UserRole.office)
    evaluation = publish.publish_evaluation(session, run(session, hand_worked), actor=office, now=NOW)
    before = copy.deepcopy(exports.export_json(results.evaluation_report(session, evaluation)))
    snapshot = copy.deepcopy(evaluation.snapshot)
    edit_every_input(session, hand_worked)
    fields = rules.RuleFields.from_rule_set(rules.current_rules(session))
    fields.path_shape, fields.band_excellent = "linear", "90"
    rules.save_rules(session, fields=fields, actor=office, now=NOW + timedelta(hours=1))
    session.expire_all()
    again = session.get(Evaluation, evaluation.id)
    assert again.snapshot == snapshot
    assert exports.export_json(results.evaluation_report(session, again)) == before
    recomputed = run(session, hand_worked)
    assert recomputed.version == 2
    changed = exports.export_json(results.evaluation_report(session, recomputed))
    assert changed["rule_version"] == 2 and changed != before
    assert exports.export_json(results.evaluation_report(session, session.get(Evaluation, evaluation.id))) == before


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(energy_factor=st.decimals(min_value="0.5", max_value="1.5", places=2),
       score=st.integers(min_value=0, max_value=60), gdp=st.integers(min_value=500, max_value=3000))
def test_a_published_evaluation_never_changes_whatever_edits_follow(session, make_plan, make_unit, energy_factor,
                                                                  score, gdp):
    world = add_areas(session, make_plan, make_unit, HAND_WORKED)
    fill_hand_worked(world)
    evaluation = publish.publish_evaluation(session, run(session, world), actor=COMMAND_LINE, now=NOW)
    before = copy.deepcopy(exports.export_json(results.evaluation_report(session, evaluation)))
    for row in session.exec(select(AreaEnergyData).where(AreaEnergyData.plan_id == world.plan.id)):
        row.energy_tce, row.gdp_10k_yuan = (row.energy_tce * energy_factor).quantize(Decimal("0.01")), Decimal(gdp)
    for row in session.exec(select(MeasuresScore).where(MeasuresScore.plan_id == world.plan.id)):
        row.score = Decimal(score)
    world.energy("戊县", 2023, 900, gdp)
    session.commit()
    session.expire_all()
    assert exports.export_json(results.evaluation_report(session, session.get(Evaluation, evaluation.id))) == before
    assert run(session, world).version == 2


def test_every_rule_save_is_a_new_version_and_results_name_the_version_they_used(session, hand_worked, make_user):
    office = make_user(UserRole.office)
    first = run(session, hand_worked)
    fields = rules.RuleFields.from_rule_set(rules.current_rules(session))
    fields.path_shape = "linear"
    saved = rules.save_rules(session, fields=fields, actor=office, now=NOW)
    assert saved.version == 2 and saved.path_shape is PathShape.linear
    second = run(session, hand_worked)
    assert results.evaluation_report(session, first)["rule_version"] == 1
    report = results.evaluation_report(session, second)
    assert report["rule_version"] == 2
    assert by_area(report)["甲区"]["required_reduction"] == "0.072000"  # the linear path
    assert [r.version for r in rules.rule_history(session)] == [2, 1]


def test_only_the_office_edits_the_rules_and_wrong_values_name_their_field(session, make_user):
    fields = rules.RuleFields()
    with pytest.raises(PermissionDenied):
        rules.save_rules(session, fields=fields, actor=make_user(UserRole.coordinator), now=NOW)
    office = make_user(UserRole.office)
    for name, value, message in (("target_points", "abc", "数字"), ("band_complete", "99", "低于"),
                                 ("min_share", "1.5", "不能大于"), ("weight_on_time", "-1", "不能小于")):
        wrong = rules.RuleFields(**{name: value})
        with pytest.raises(Invalid, match=message) as raised:
            rules.save_rules(session, fields=wrong, actor=office, now=NOW)
        assert raised.value.field == name
    assert session.exec(select(RuleSet)).all() == []


def test_measures_above_the_rules_maximum_are_refused_after_the_maximum_changes(session, hand_worked, make_user):
    office = make_user(UserRole.office)
    fields = rules.RuleFields.from_rule_set(rules.rules_for_display(session, now=NOW))
    fields.measures_points = "50"
    rules.save_rules(session, fields=fields, actor=office, now=NOW)
    with pytest.raises(data_entry.CellErrors) as raised:
        data_entry.save_measures(session, hand_worked.plan, year=2023,
                                 rows={hand_worked["甲区"].id: {"score": "55", "note": ""}}, actor=office, now=NOW)
    assert raised.value.errors == {f"score-{hand_worked['甲区'].id}": "措施得分应在 0 到 50 之间"}


def test_the_midterm_and_final_use_the_same_formulas_with_k_three_and_five(session, hand_worked):
    midterm = results.evaluation_report(session, run(session, hand_worked, kind="midterm", year=2023))
    assert midterm["k"] == 3 and by_area(midterm)["甲区"]["required_reduction"] == "0.073832"
    final = results.evaluation_report(session, run(session, hand_worked, kind="final", year=2025))
    assert final["k"] == 5
    assert by_area(final)["甲区"]["missing_inputs"] == ["2025年能源数据", "2025年节能措施评分"]
    assert by_area(final)["甲区"]["required_reduction"] == "0.120000"
