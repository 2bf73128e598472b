"""The six State Council documents of tests/documents/genre: what a reader sees in each.

Each document shows other annotation habits of the genre; expected values come from reading it.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tracker.tasks.parsing import parse_plan

GENRE = Path(__file__).resolve().parents[1] / "documents" / "genre"


def _parse(name: str):
    return parse_plan((GENRE / name).read_text(encoding="utf-8"))


def _by_number(plan):
    return {task.number: task for task in plan.tasks}


def _all_owner_names(plan):
    return [o.name for task in plan.tasks for o in task.owners]


@pytest.fixture(scope="module")
def employment():
    return _parse("state-council-2018-39-employment.txt")


@pytest.fixture(scope="module")
def farm_mechanization():
    return _parse("state-council-2018-42-farm-mechanization.txt")


@pytest.fixture(scope="module")
def bonded_zones():
    return _parse("state-council-2019-3-bonded-zones.txt")


@pytest.fixture(scope="module")
def incentives():
    return _parse("state-council-office-2018-117-incentives-for-effective-localities.txt")


@pytest.fixture(scope="module")
def zero_waste_city():
    return _parse("state-council-office-2018-128-zero-waste-city.txt")


@pytest.fixture(scope="module")
def consumption_poverty():
    return _parse("state-council-office-2018-129-consumption-poverty.txt")


class TestEmployment:
    """国发〔2018〕39号: （A、B负责。列第一位者为牵头单位，下同）, clause numbers run on across sections."""

    @pytest.fixture
    def plan(self, employment):
        return employment

    @pytest.fixture
    def tasks(self, plan):
        return _by_number(plan)

    def test_the_title_spread_over_two_lines_is_one_title(self, plan):
        assert plan.title == "国务院关于做好当前和今后一个时期促进就业工作的若干意见"

    def test_the_document_number_under_the_title_is_read(self, plan):
        assert plan.doc_number == "国发〔2018〕39号"

    def test_the_lead_rule_stated_in_the_first_annotation_is_recorded(self, plan):
        assert "列第一位者为牵头单位" in plan.lead_rule_text

    def test_fifteen_clauses_numbered_on_across_five_sections_are_the_tasks(self, plan):
        assert [t.number for t in plan.tasks] == list(range(1, 16))
        assert [t.section_number for t in plan.tasks] == [1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 5]
        assert plan.tasks[2].key == "2.3" and plan.tasks[-1].key == "5.15"

    def test_the_first_listed_ministry_leads(self, tasks):
        assert tasks[1].names("lead") == ["人力资源社会保障部"]
        assert tasks[1].names("responsible") == ["财政部"]
        assert tasks[2].names("lead") == ["财政部"]
        assert tasks[2].names("responsible") == ["工业和信息化部", "人民银行", "银保监会"]

    def test_the_lead_rule_is_not_read_as_carrying_the_first_clause_forward(self, plan, tasks):
        assert not any(o.is_carried_forward for task in plan.tasks for o in task.owners)
        assert "人力资源社会保障部" not in [o.name for o in tasks[2].owners]

    def test_ministries_and_provincial_governments_separated_by_a_comma(self, tasks):
        # （人力资源社会保障部、科技部、财政部、住房城乡建设部、市场监管总局，各省级人民政府按职责分工负责）
        assert tasks[4].names("lead") == ["人力资源社会保障部"]
        assert tasks[4].names("responsible") == ["科技部", "财政部", "住房城乡建设部", "市场监管总局"]
        assert tasks[4].group_names == ["各省级人民政府"]

    def test_deng_before_a_group_leaves_the_named_unit_leading_the_group(self, plan, tasks):
        # （人力资源社会保障部等有关部门和单位负责）
        assert tasks[5].names("lead") == ["人力资源社会保障部"]
        assert tasks[5].group_names == ["各有关部门和单位"]
        names = _all_owner_names(plan)
        assert "有关部门和单位" not in names
        assert not [n for n in names if n.endswith("等")]

    def test_a_prose_bracket_inside_a_clause_is_not_an_annotation(self, tasks):
        # （七）…职业院校（含技工院校）…（人力资源社会保障部、财政部、教育部等有关部门和单位负责）
        assert len(tasks[7].annotations) == 1
        assert tasks[7].names("responsible") == ["财政部", "教育部"]

    def test_a_clause_carried_only_by_provincial_governments_names_only_that_group(self, tasks):
        assert [o.name for o in tasks[12].owners] == ["各省级人民政府"]
        assert tasks[12].owners[0].is_group
        assert tasks[12].names("lead") == [] and tasks[12].names("responsible") == []

    def test_groups_alone_name_no_unit(self, tasks):
        assert tasks[14].group_names == ["各有关部门和单位", "各省级人民政府"]
        assert tasks[14].names("lead") == [] and tasks[14].names("responsible") == []

    def test_the_closing_paragraph_signature_and_date_make_no_task(self, plan):
        assert all("国务院" != t.title for t in plan.tasks)
        assert len(plan.tasks) == 15


class TestFarmMechanization:
    """国发〔2018〕42号: （A、B等负责。列第一位者为牵头单位，下同）, headline targets in （二）."""

    @pytest.fixture
    def plan(self, farm_mechanization):
        return farm_mechanization

    @pytest.fixture
    def tasks(self, plan):
        return _by_number(plan)

    def _headline(self, plan, measure, year):
        return [t for t in plan.targets if t.measure == measure and t.deadline_year == year]

    def test_the_document_number_is_read(self, plan):
        assert plan.doc_number == "国发〔2018〕42号"

    def test_eighteen_clauses_three_to_twenty_are_the_tasks(self, plan):
        assert [t.number for t in plan.tasks] == list(range(3, 21))
        assert not [t for t in plan.tasks if t.section_number == 1]

    def test_a_list_ending_in_deng_names_no_unit_called_deng(self, plan, tasks):
        assert tasks[3].names("lead") == ["工业和信息化部"]
        assert tasks[3].names("responsible") == ["发展改革委", "科技部", "农业农村部"]
        assert not [n for n in _all_owner_names(plan) if n.endswith("等")]

    def test_two_units_written_as_leading_together_both_lead(self, tasks):
        # （农业农村部、工业和信息化部牵头负责）
        assert tasks[18].names("lead") == ["农业农村部", "工业和信息化部"]
        assert tasks[18].names("responsible") == []

    def test_provincial_governments_carry_clause_nineteen(self, tasks):
        assert tasks[19].group_names == ["各省级人民政府"]

    def test_the_mechanisation_rate_targets_for_2020_and_2025(self, plan):
        [by_2020] = self._headline(plan, "全国农作物耕种收综合机械化率", 2020)
        [by_2025] = self._headline(plan, "全国农作物耕种收综合机械化率", 2025)
        assert (by_2020.comparator, by_2020.value, by_2020.unit) == (">=", Decimal("70"), "%")
        assert (by_2025.comparator, by_2025.value, by_2025.unit) == (">=", Decimal("75"), "%")

    def test_both_at_forty_five_gives_potato_planting_and_harvesting_a_target_each(self, plan):
        assert [t.value for t in self._headline(plan, "马铃薯种植机械化率", 2025)] == [Decimal("45")]
        assert [t.value for t in self._headline(plan, "马铃薯收获机械化率", 2025)] == [Decimal("45")]

    def test_respectively_sixty_five_and_fifty_five_goes_to_peanut_planting_then_harvesting(self, plan):
        assert [t.value for t in self._headline(plan, "花生种植机械化率", 2025)] == [Decimal("65")]
        assert [t.value for t in self._headline(plan, "花生收获机械化率", 2025)] == [Decimal("55")]

    def test_machinery_power_of_over_ten_billion_kilowatts_keeps_its_unit(self, plan):
        [power] = self._headline(plan, "全国农机总动力", 2020)
        assert (power.comparator, power.value, power.unit) == (">", Decimal("10"), "亿千瓦")
        [steady] = self._headline(plan, "全国农机总动力", 2025)
        assert (steady.comparator, steady.value) == ("~", Decimal("11"))

    def test_no_task_carries_the_headline_targets(self, plan):
        assert all(task.targets == [] for task in plan.tasks)


class TestBondedZones:
    """国发〔2019〕3号: 1.–21. items under （一）…（五）, 排在第一位的部门为牵头部门，下同."""

    @pytest.fixture
    def plan(self, bonded_zones):
        return bonded_zones

    def test_the_twenty_one_numbered_items_are_the_tasks(self, plan):
        assert [t.number for t in plan.tasks] == list(range(1, 22))
        assert {t.level for t in plan.tasks} == {"item"}
        assert {t.section_number for t in plan.tasks} == {4}

    def test_each_item_knows_the_clause_it_is_printed_under(self, plan):
        assert [t.clause_number for t in plan.tasks] == [1] * 5 + [2] * 4 + [3] * 4 + [4] * 3 + [5] * 5
        assert plan.tasks[0].key == "4.1.1" and plan.tasks[-1].key == "4.5.21"

    def test_the_basic_principles_of_section_two_are_not_tasks(self, plan):
        assert not [t for t in plan.tasks if t.section_number == 2]

    def test_the_lead_rule_worded_for_departments_is_recorded(self, plan):
        assert plan.lead_rule_text.startswith("排在第一位的部门为牵头部门")

    def test_the_first_listed_department_leads_the_first_item(self, plan):
        first = plan.tasks[0]
        assert first.title == "拓展两个市场"
        assert first.names("lead") == ["税务总局"]
        assert first.names("responsible") == ["财政部", "海关总署"]

    def test_a_single_ministry_leads_alone(self, plan):
        fifth = plan.tasks[4]
        assert [o.name for o in fifth.owners] == ["海关总署"] and fifth.names("lead") == ["海关总署"]

    def test_deng_you_guan_bu_men_becomes_the_group_of_relevant_departments(self, plan):
        sixth = plan.tasks[5]
        assert sixth.names("lead") == ["海关总署"]
        assert sixth.names("responsible") == ["商务部"]
        assert sixth.group_names == ["各有关部门"]


class TestIncentives:
    """国办发〔2018〕117号: thirty 一、…三十、 sections, each with （X负责） or （X会同有关部门负责）."""

    @pytest.fixture
    def plan(self, incentives):
        return incentives

    @pytest.fixture
    def tasks(self, plan):
        return _by_number(plan)

    def test_the_thirty_numbered_sections_are_the_tasks(self, plan):
        assert [t.number for t in plan.tasks] == list(range(1, 31))
        assert {t.level for t in plan.tasks} == {"section"}
        assert {t.section_number for t in plan.tasks} == {None}
        assert [t.key for t in plan.tasks] == [str(n) for n in range(1, 31)]

    def test_a_section_that_is_a_task_is_not_also_listed_as_a_section(self, plan):
        assert plan.sections == []

    def test_the_national_development_commission_leads_section_three(self, tasks):
        assert tasks[3].names("lead") == ["国家发展改革委"]

    def test_a_bracket_inside_the_sentence_is_not_the_annotation(self, tasks):
        # 三、…“直通车”机制（企业直接向国家发展改革委申报，不需省级发展改革部门转报）…（国家发展改革委负责）
        assert tasks[3].annotations == ["（国家发展改革委负责）"]

    def test_together_with_relevant_departments_names_a_lead_and_the_group(self, tasks):
        assert tasks[16].names("lead") == ["国家发展改革委"]
        assert tasks[16].group_names == ["各有关部门"]
        assert tasks[16].names("responsible") == []

    def test_two_units_together_with_relevant_departments_both_lead(self, tasks):
        # （国家发展改革委、财政部会同有关部门负责）
        assert tasks[18].names("lead") == ["国家发展改革委", "财政部"]
        assert tasks[18].group_names == ["各有关部门"]

    def test_a_plain_pair_is_led_by_the_first(self, tasks):
        assert tasks[6].names("lead") == ["交通运输部"]
        assert tasks[6].names("responsible") == ["财政部"]

    def test_the_state_council_office_stands_as_written(self, tasks):
        assert tasks[30].names("lead") == ["国务院办公厅"]
        assert tasks[22].names("responsible") == ["国务院扶贫办"]


class TestZeroWasteCity:
    """国办发〔2018〕128号: （X牵头，Y参与）, （X指导）, mid-paragraph annotations, a carry-forward."""

    @pytest.fixture
    def plan(self, zero_waste_city):
        return zero_waste_city

    @pytest.fixture
    def tasks(self, plan):
        return _by_number(plan)

    def test_the_notice_title_and_number_are_read(self, plan):
        assert plan.title == "国务院办公厅关于印发“无废城市”建设试点工作方案的通知"
        assert plan.doc_number == "国办发〔2018〕128号"

    def test_the_six_clauses_of_the_main_tasks_are_the_tasks(self, plan):
        assert [t.key for t in plan.tasks] == ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]

    def test_sections_without_annotations_make_no_task(self, plan):
        assert {t.section_number for t in plan.tasks} == {2}
        assert [s.number for s in plan.sections] == [1, 2, 3, 4]

    def test_every_annotation_of_a_clause_is_read_including_those_mid_paragraph(self, tasks):
        assert len(tasks[1].annotations) == 4
        assert len(tasks[6].annotations) == 11

    def test_an_explicit_lead_wins_over_units_listed_in_later_annotations(self, tasks):
        assert tasks[1].names("lead") == ["生态环境部"]
        responsible = tasks[1].names("responsible")
        for name in ("国家发展改革委", "工业和信息化部", "住房城乡建设部", "农业农村部", "国家统计局",
                     "财政部", "自然资源部", "商务部", "国家卫生健康委"):
            assert name in responsible
        assert "生态环境部" not in responsible

    def test_each_unit_appears_once_per_task(self, plan):
        for task in plan.tasks:
            names = [o.name for o in task.owners]
            assert len(names) == len(set(names)), task.key

    def test_the_pilot_city_governments_are_named_in_the_first_clause(self, tasks):
        [owner] = [o for o in tasks[1].owners if o.name == "试点城市政府"]
        assert owner.is_group and owner.role == "responsible"

    def test_the_pilot_city_governments_carry_every_later_clause(self, plan):
        for task in plan.tasks[1:]:
            [owner] = [o for o in task.owners if o.name == "试点城市政府"]
            assert (owner.role, owner.is_group, owner.is_carried_forward) == ("responsible", True, True)

    def test_a_unit_that_takes_part_is_responsible(self, tasks):
        # （商务部指导，供销合作总社参与）
        assert "供销合作总社" in tasks[6].names("responsible")

    def test_the_half_width_annotation_is_read(self, tasks):
        # (国家发展改革委、工业和信息化部、住房城乡建设部、市场监管总局、国管局指导)
        assert "（国家发展改革委、工业和信息化部、住房城乡建设部、市场监管总局、国管局指导）" in tasks[6].annotations
        assert "国管局" in [o.name for o in tasks[6].owners]

    def test_the_guo_jia_prefix_is_not_added_to_ministries_or_to_guo_guan_ju(self, plan):
        names = _all_owner_names(plan)
        assert "工业和信息化部" in names and "国管局" in names
        assert not [n for n in names if n.startswith("国家") and n.endswith("部")]
        assert "国家国管局" not in names and "国家市场监管总局" not in names

    def test_guided_units_listed_alone_are_led_by_the_first(self, tasks):
        # （二）'s first annotation: （自然资源部、工业和信息化部指导）
        assert tasks[2].names("lead") == ["自然资源部"]
        assert "工业和信息化部" in tasks[2].names("responsible")

    def test_targets_before_the_pilot_deadline_are_due_in_2020(self, tasks):
        [manure] = [t for t in tasks[3].targets if "粪污处理设施装备配套率" in t.measure]
        assert (manure.comparator, manure.value, manure.unit, manure.deadline_year) == (">=", Decimal("95"), "%", 2020)
        assert {t.deadline_year for t in tasks[3].targets} == {2020}

    def test_a_prohibition_is_not_a_target(self, tasks):
        # 禁止生产和使用厚度低于0.01毫米的地膜
        assert not [t for t in tasks[3].targets if t.value == Decimal("0.01")]


class TestConsumptionPoverty:
    """国办发〔2018〕129号: （A、B等和各省级人民政府负责）."""

    @pytest.fixture
    def plan(self, consumption_poverty):
        return consumption_poverty

    @pytest.fixture
    def tasks(self, plan):
        return _by_number(plan)

    def test_seventeen_clauses_are_the_tasks(self, plan):
        assert [t.number for t in plan.tasks] == list(range(1, 18))
        assert plan.doc_number == "国办发〔2018〕129号"

    def test_deng_he_splits_the_ministries_from_the_provincial_governments(self, tasks):
        first = tasks[1]
        assert first.names("lead") == ["扶贫办"]
        assert first.group_names == ["各省级人民政府"]
        assert first.names("responsible")[-1] == "全国总工会"
        assert "中央统战部" in first.names("responsible")

    def test_relevant_provincial_governments_are_a_group_of_their_own(self, tasks):
        assert tasks[2].names("lead") == ["扶贫办"]
        assert tasks[2].group_names == ["各有关省级人民政府"]

    def test_central_bodies_stand_as_written(self, plan):
        names = _all_owner_names(plan)
        assert {"中央统战部", "中央宣传部", "共青团中央", "全国工商联"} <= set(names)
        assert not [n for n in names if n.endswith("等") or "和各" in n]

    def test_every_clause_names_a_provincial_group(self, plan):
        assert all(len(t.group_names) == 1 and t.group_names[0].endswith("省级人民政府") for t in plan.tasks)


def test_the_guo_jia_prefix_distributes_onto_a_bureau():
    plan = parse_plan("某项工作方案\n一、重点任务\n（一）做好能源工作。（国家发展改革委、能源局负责）")
    assert plan.tasks[0].names("lead") == ["国家发展改革委"]
    assert plan.tasks[0].names("responsible") == ["国家能源局"]


def test_the_guo_jia_prefix_does_not_distribute_onto_a_general_administration():
    plan = parse_plan("某项工作方案\n一、重点任务\n（一）做好某事。（国家发展改革委、市场监管总局、财政部负责）")
    assert plan.tasks[0].names("responsible") == ["市场监管总局", "财政部"]


@pytest.mark.parametrize("name", sorted(p.name for p in GENRE.glob("*.txt")))
def test_every_genre_document_parses_with_a_lead_for_every_task_and_no_warning(name):
    plan = _parse(name)
    assert plan.tasks
    assert plan.doc_number is not None
    assert all(any(o.role == "lead" for o in t.owners) for t in plan.tasks)
    assert plan.warnings == []
