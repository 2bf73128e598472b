"""What a person reading the Hohhot energy-saving plan relies on the importer to read out of it.

Expected values come from reading seed/hohhot-energy-saving-2021-2025.txt; where a check can be
made against the file itself (annex rows, warning lines, target numbers) the test reads the file.
"""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from tracker.tasks.parsing import parse_plan
from tracker.tasks.parsing.repair import normalise_line

HOHHOT = Path(__file__).resolve().parents[2] / "seed" / "hohhot-energy-saving-2021-2025.txt"
CARRIED_GROUP = "各旗县区、经济技术开发区、和林格尔新区"


@pytest.fixture(scope="module")
def raw() -> str:
    return HOHHOT.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def source_lines(raw) -> list[str]:
    """The file's lines, 1-based (index 0 is a placeholder)."""
    return [""] + raw.split("\n")


@pytest.fixture(scope="module")
def plan(raw):
    return parse_plan(raw)


@pytest.fixture(scope="module")
def tasks(plan):
    return {task.key: task for task in plan.tasks}


def _owner(task, name):
    return next(o for o in task.owners if o.name == name)


def _targets(task, measure_part):
    return [t for t in task.targets if measure_part in t.measure]


# --- the document as a whole ------------------------------------------------------------------

def test_the_title_is_read_whole_with_the_extraction_space_removed(plan):
    assert plan.title == "呼和浩特市“十四五”节能减排综合工作实施方案"


def test_the_fourteenth_five_year_plan_runs_from_2021_to_2025(plan):
    assert (plan.start_year, plan.end_year) == (2021, 2025)


def test_a_city_plan_without_a_document_number_has_none(plan):
    assert plan.doc_number is None


def test_the_four_sections_are_read_with_their_titles(plan):
    assert [(s.number, s.title) for s in plan.sections] == [
        (1, "总体要求"), (2, "实施节能减排重点工程"), (3, "健全节能减排政策机制"), (4, "组织实施")]


# --- tasks ------------------------------------------------------------------------------------

def test_the_plan_has_twenty_one_tasks_ten_eight_and_three_per_section(plan):
    keys = [task.key for task in plan.tasks]
    assert keys == ([f"2.{n}" for n in range(1, 11)] + [f"3.{n}" for n in range(1, 9)]
                    + [f"4.{n}" for n in range(1, 4)])


def test_each_task_knows_its_section_and_clause_number(plan):
    for task in plan.tasks:
        section, number = (int(part) for part in task.key.split("."))
        assert (task.level, task.section_number, task.number) == ("clause", section, number)
        assert task.clause_number is None


def test_section_one_general_requirements_holds_no_task(plan):
    assert not [t for t in plan.tasks if t.section_number == 1]


def test_each_task_starts_on_the_line_where_its_clause_is_printed(plan, source_lines):
    for task in plan.tasks:
        line = normalise_line(source_lines[task.line])
        assert line.startswith(task.label), (task.key, line[:20])
        assert task.title in line


def test_clause_titles_are_read_up_to_the_first_full_stop(tasks):
    assert tasks["2.1"].title == "重点行业绿色升级工程"
    assert tasks["2.10"].title == "环境基础设施水平提升工程"
    assert tasks["3.3"].title == "坚决遏制高耗能高排放低水平项目盲目发展"
    assert tasks["4.3"].title == "营造良好氛围"


def test_bold_markers_around_a_clause_title_are_dropped(tasks):
    # （五）**农牧业节能减排工程**。 and （六）**公共机构能效提升工程**。
    assert tasks["2.5"].title == "农牧业节能减排工程"
    assert tasks["2.6"].title == "公共机构能效提升工程"
    assert all("*" not in task.title and "*" not in task.text for task in tasks.values())


def test_a_half_width_clause_label_reads_like_a_full_width_one(tasks):
    # (一) 重点行业绿色升级工程 is printed with half-width brackets and a space
    assert tasks["2.1"].label == "（一）"
    assert tasks["3.1"].label == "（一）"
    assert tasks["4.3"].label == "（三）"


def test_a_clause_broken_by_a_page_break_keeps_its_whole_text(tasks):
    assert "鼓励装配建筑在新建建筑中的推广应用" in tasks["2.3"].text
    assert "强化能耗强度约束性指标管理" in tasks["3.1"].text


# --- who carries each task --------------------------------------------------------------------

def test_a_unit_name_cut_by_a_page_break_is_whole(tasks):
    # 市工业和信息\n\n化局 on lines 17–19
    assert tasks["2.1"].names("lead") == ["市工业和信息化局", "市发展改革委"]


def test_the_city_prefix_written_once_distributes_over_the_list(tasks):
    # 市水务局、生态环境局、市场监管局、大数据局
    assert tasks["2.1"].names("responsible") == ["市水务局", "市生态环境局", "市市场监管局", "市大数据局"]


def test_a_name_starting_with_shi_chang_still_takes_the_city_prefix(tasks):
    # 市场监管局 is not 市 + 场监管局
    assert "市市场监管局" in tasks["2.5"].names("responsible")
    assert "市场监管局" not in [o.name for t in tasks.values() for o in t.owners]


def test_responsible_units_across_a_page_break_are_both_read(tasks):
    # （责任单位：市委组织部、发展改革委、\n\n生态环境局)
    assert tasks["4.2"].names("responsible") == ["市发展改革委", "市生态环境局"]


def test_a_party_organ_stands_as_written_and_still_passes_the_city_prefix_on(tasks):
    assert tasks["4.2"].names("lead") == ["市委组织部"]
    assert "市发展改革委" in tasks["4.2"].names("responsible")
    assert tasks["4.3"].names("lead") == ["市委宣传部"]
    assert "市市委宣传部" not in [o.name for t in tasks.values() for o in t.owners]


@pytest.mark.parametrize("key, lead", [
    ("2.2", "市发展改革委"), ("3.3", "市发展改革委"), ("3.4", "市发展改革委"),
    ("3.6", "市统计局"), ("3.8", "市科技局"), ("4.2", "市委组织部"), ("4.3", "市委宣传部"),
])
def test_a_clause_naming_only_responsible_units_is_led_by_its_first_named_unit(tasks, key, lead):
    assert tasks[key].names("lead") == [lead]
    assert lead not in tasks[key].names("responsible")


def test_the_first_named_unit_leads_and_the_rest_stay_responsible(tasks):
    # 三(六)（责任单位：市统计局、发展改革委、生态环境局、工业和信息化局）
    assert tasks["3.6"].names("responsible") == ["市发展改革委", "市生态环境局", "市工业和信息化局"]


def test_labelled_leads_and_responsible_units_are_read_as_written(tasks):
    assert tasks["2.3"].names("lead") == ["市住房和城乡建设局"]
    assert tasks["2.3"].names("responsible") == ["市生态环境局", "市发展改革委"]
    assert tasks["2.4"].names("lead") == ["市交通运输局"]
    assert tasks["2.4"].names("responsible") == [
        "市工业和信息化局", "市公安局", "市财政局", "市生态环境局", "市住房和城乡建设局", "市商务局",
        "市邮政管理局"]
    assert tasks["2.5"].names("lead") == ["市农牧局", "市乡村振兴局"]
    assert tasks["2.8"].names("lead") == ["市发展改革委", "市工业和信息化局"]
    assert tasks["2.10"].names("responsible") == ["市住房和城乡建设局", "市工业和信息化局", "市生态环境局",
                                                  "市城管执法局"]


def test_every_task_has_a_lead_unit(plan):
    assert all(task.names("lead") for task in plan.tasks)
    assert not [w for w in plan.warnings if "牵头单位" in w.message]


def test_all_relevant_departments_stay_a_group(tasks):
    assert tasks["2.6"].names("lead") == ["市机关事务管理局"]
    assert "各有关部门" in tasks["2.6"].names("responsible", groups=True)
    assert "各有关部门" in tasks["2.9"].names("responsible", groups=True)
    assert "各有关部门" in tasks["3.2"].names("responsible", groups=True)


def test_each_according_to_its_duties_names_the_group_of_all_relevant_departments(tasks):
    # 四(一)（…责任单位：各有关部门按职责分工负责）
    assert tasks["4.1"].names("lead") == ["市发展改革委", "市生态环境局"]
    assert "各有关部门" in tasks["4.1"].group_names
    assert not [o for o in tasks["4.1"].owners if "负责" in o.name]


def test_the_counties_and_zones_are_named_in_the_first_clause_as_a_group(tasks):
    owner = _owner(tasks["2.1"], CARRIED_GROUP)
    assert (owner.role, owner.is_group, owner.is_carried_forward) == ("responsible", True, False)


def test_every_later_task_is_carried_by_the_counties_and_zones_too(plan):
    for task in plan.tasks[1:]:
        owner = _owner(task, CARRIED_GROUP)
        assert (owner.role, owner.is_group, owner.is_carried_forward) == ("responsible", True, True), task.key


def test_the_carried_group_never_leads_and_appears_once_per_task(plan):
    for task in plan.tasks:
        carried = [o for o in task.owners if o.name == CARRIED_GROUP]
        assert len(carried) == 1 and carried[0].role == "responsible", task.key


def test_the_carry_forward_sentence_is_not_read_as_a_unit(plan):
    names = [o.name for t in plan.tasks for o in t.owners]
    assert not [n for n in names if "以下" in n or "落实" in n or "不再列出" in n]


def test_no_unit_name_keeps_extraction_damage_or_a_trailing_deng(plan):
    for task in plan.tasks:
        for owner in task.owners:
            name = owner.name
            assert "*" not in name and "（" not in name and "(" not in name, name
            assert "\n" not in name and " " not in name and not name.endswith("等"), name
            assert name.startswith(("市", "各")), name


def test_each_owner_points_at_the_line_of_its_annotation(plan, source_lines):
    for task in plan.tasks:
        for owner in task.owners:
            if owner.is_carried_forward:
                continue
            assert "单位" in source_lines[owner.line], (task.key, owner.name, owner.line)


# --- targets ----------------------------------------------------------------------------------

def test_the_headline_target_is_a_twelve_percent_cut_in_energy_per_gdp(plan):
    assert len(plan.targets) == 1
    target = plan.targets[0]
    assert "单位GDP能耗" in target.measure
    assert (target.comparator, target.value, target.unit, target.deadline_year) == (">=", Decimal("12"), "%", 2025)
    assert target.line == 13


def test_green_factories_are_counted_in_jia(tasks):
    [target] = _targets(tasks["2.1"], "绿色工厂")
    assert (target.comparator, target.value, target.unit, target.deadline_year) == (">=", Decimal("35"), "家", 2025)


def test_data_centre_pue_is_capped_at_one_point_two_without_a_unit(tasks):
    [target] = _targets(tasks["2.1"], "PUE")
    assert (target.comparator, target.value, target.unit) == ("<=", Decimal("1.2"), None)


def test_all_boilers_means_one_hundred_percent(tasks):
    # 65 蒸吨/小时及以上燃煤锅炉全部完成超低排放改造
    [target] = _targets(tasks["2.1"], "燃煤锅炉")
    assert "65蒸吨/小时" in target.measure
    assert (target.comparator, target.value, target.unit) == ("=", Decimal("100"), "%")


def test_more_than_thirty_percent_is_a_strict_comparator(tasks):
    [target] = _targets(tasks["2.1"], "能效标杆水平的比例")
    assert (target.comparator, target.value, target.unit) == (">", Decimal("30"), "%")


def test_the_industrial_energy_and_water_reductions_are_two_targets(tasks):
    [energy] = _targets(tasks["2.1"], "单位增加值能耗")
    [water] = _targets(tasks["2.1"], "用水量")
    assert (energy.value, energy.unit) == (Decimal("18"), "%")
    assert (water.value, water.unit) == (Decimal("13.5"), "%")


def test_respectively_splits_one_phrase_into_one_target_per_subject(tasks):
    # 绿色防控、统防统治覆盖率分别达到55%、45%
    control = _targets(tasks["2.5"], "绿色防控")
    unified = _targets(tasks["2.5"], "统防统治")
    assert [(t.value, t.unit) for t in control] == [(Decimal("55"), "%")]
    assert [(t.value, t.unit) for t in unified] == [(Decimal("45"), "%")]
    assert "覆盖率" in control[0].measure and "覆盖率" in unified[0].measure


def test_respectively_reduced_gives_two_targets_and_adhesives_a_third(tasks):
    # 溶剂型工业涂料、油墨使用比例分别降低 20%、10%，溶剂型胶粘剂使用量降低 20%
    assert [t.value for t in _targets(tasks["2.9"], "涂料")] == [Decimal("20")]
    assert [t.value for t in _targets(tasks["2.9"], "油墨")] == [Decimal("10")]
    assert [t.value for t in _targets(tasks["2.9"], "胶粘剂")] == [Decimal("20")]
    assert len(tasks["2.9"].targets) == 3


def test_about_fifty_percent_is_an_approximate_target(tasks):
    [target] = _targets(tasks["2.5"], "农村生活污水治理率")
    assert (target.comparator, target.value, target.unit) == ("~", Decimal("50"), "%")


def test_at_least_ninety_percent_is_read_from_yi_shang(tasks):
    [straw] = _targets(tasks["2.5"], "秸秆综合利用率")
    assert (straw.comparator, straw.value) == (">=", Decimal("90"))


def test_not_below_forty_and_reaching_seventy_in_one_phrase_are_two_targets(tasks):
    [share] = _targets(tasks["2.4"], "分担率")
    [green] = _targets(tasks["2.4"], "绿色出行比例")
    assert (share.comparator, share.value) == (">=", Decimal("40"))
    assert (green.comparator, green.value) == (">=", Decimal("70"))


def test_water_quality_class_two_is_kept_as_a_qualitative_target(tasks):
    [target] = tasks["2.7"].targets
    assert "黄河干流水质达到Ⅱ类" in target.measure
    assert (target.comparator, target.value, target.unit, target.deadline_year) == (None, None, None, 2025)


def test_zero_landfill_is_due_by_the_nearest_stated_year_2023(tasks):
    [target] = [t for t in tasks["2.10"].targets if "零填埋" in t.measure]
    assert (target.comparator, target.value, target.deadline_year) == (None, None, 2023)


def test_a_target_before_the_2023_phrase_keeps_the_2025_deadline(tasks):
    [sludge] = _targets(tasks["2.10"], "污泥处置能力")
    assert (sludge.comparator, sludge.value, sludge.unit, sludge.deadline_year) == ("~", Decimal("800"), "吨/日", 2025)


def test_the_annotation_is_not_mistaken_for_a_target(plan):
    for task in plan.tasks:
        for target in task.targets:
            assert "单位：" not in target.text and "牵头" not in target.text


def test_a_clause_of_mechanisms_without_numbers_has_no_target(tasks):
    for key in ("3.1", "3.2", "3.5", "3.6", "4.1", "4.2", "4.3"):
        assert tasks[key].targets == [], key


def test_every_target_value_is_the_decimal_written_in_its_phrase(plan):
    for target in plan.targets + [t for task in plan.tasks for t in task.targets]:
        if target.value is None:
            assert target.comparator is None or target.comparator == "="
            continue
        assert isinstance(target.value, Decimal)
        if target.comparator != "=":
            assert re.search(rf"(?<![\d.]){re.escape(str(target.value))}(?![\d.])", target.text), target


def test_every_target_phrase_is_in_the_document(plan, raw):
    document = "".join(normalise_line(line) for line in raw.split("\n"))
    for target in plan.targets + [t for task in plan.tasks for t in task.targets]:
        assert target.text in document, target.text


def test_every_target_line_lies_within_its_clause_and_shows_its_number(plan, source_lines):
    tasks = plan.tasks
    for index, task in enumerate(tasks):
        end = tasks[index + 1].line if index + 1 < len(tasks) else 90  # 附件 starts at line 90
        for target in task.targets:
            assert task.line <= target.line < end, (task.key, target)
            if target.value is not None and target.comparator != "=":
                written = normalise_line(source_lines[target.line])
                assert str(target.value) in written, (task.key, target)


# --- 附件 1: area targets ----------------------------------------------------------------------

def _table_rows(source_lines, first, last):
    return [source_lines[n].split("\t") for n in range(first, last + 1)]


def test_annex_one_has_a_row_for_the_city_and_each_of_its_eleven_areas(plan):
    assert len(plan.area_targets) == 12
    first = plan.area_targets[0]
    assert (first.area, first.basic_pct, first.incentive_pct) == ("呼和浩特市", Decimal("12"), Decimal("13.6"))


def test_annex_one_rows_match_the_table_as_printed(plan, source_lines):
    expected = [(cells[0], Decimal(cells[1]), Decimal(cells[2]), n)
                for n, cells in zip(range(98, 110), _table_rows(source_lines, 98, 109))]
    assert [(a.area, a.basic_pct, a.incentive_pct, a.line) for a in plan.area_targets] == expected


def test_area_short_names_are_kept_as_written(plan):
    areas = [a.area for a in plan.area_targets]
    assert "土左旗" in areas and "和林县" in areas
    assert "土默特左旗" not in areas and "和林格尔县" not in areas


def test_area_percentages_keep_the_digits_as_written(plan):
    tuoketuo = next(a for a in plan.area_targets if a.area == "托克托县")
    assert str(tuoketuo.incentive_pct) == "14.0"
    assert str(tuoketuo.basic_pct) == "13"


def test_no_area_row_is_flagged_because_every_incentive_is_above_its_basic_target(plan):
    assert all(a.flags == [] for a in plan.area_targets)
    assert all(a.incentive_pct > a.basic_pct for a in plan.area_targets)


# --- 附件 2: sector indicators -----------------------------------------------------------------

@pytest.fixture(scope="module")
def indicators(plan):
    return {i.name: i for i in plan.indicators}


def test_annex_two_has_fifteen_indicators_in_five_sectors(plan):
    assert len(plan.indicators) == 15
    sectors = list(dict.fromkeys(i.sector for i in plan.indicators))
    assert sectors == ["能源", "工业", "建筑", "交通", "公共机构"]
    assert [i.sector for i in plan.indicators].count("工业") == 8


def test_annex_two_years_come_from_the_header(plan):
    assert {(i.baseline_year, i.target_year) for i in plan.indicators} == {(2020, 2025)}


def test_a_quantity_of_electricity_is_not_taken_as_a_coal_rate(indicators, plan):
    coal = indicators["火电平均供电煤耗"]
    assert coal.unit == "克标准煤/千瓦时"
    assert coal.baseline is None and coal.target is None
    [flag] = [f for f in coal.flags if "亿千瓦时" in f]
    assert "克标准煤/千瓦时" in flag and "556.39" in flag
    assert any(w.line == 118 and "亿千瓦时" in w.message for w in plan.warnings)


def test_a_dash_cell_keeps_no_value_and_says_what_is_missing(indicators):
    for name in ("可再生能源电力消纳权重", "炼铁高炉工序综合能耗"):
        indicator = indicators[name]
        assert (indicator.baseline, indicator.target, indicator.change) == (None, None, None)
        assert "缺少2020年实际值" in indicator.flags and "缺少2025年目标值" in indicator.flags


def test_a_row_with_only_a_target_keeps_it_and_flags_the_missing_baseline(indicators):
    share = indicators["非化石能源占能源消费总量比重"]
    assert (share.baseline, share.target) == (None, Decimal("18"))
    assert "缺少2020年实际值" in share.flags


def test_an_indicator_without_a_unit_is_flagged(indicators):
    pue = indicators["大型和超大型数据中心电能利用效率"]
    assert pue.unit is None
    assert "未注明计量单位" in pue.flags
    assert (pue.baseline, pue.target) == (Decimal("1.69"), Decimal("1.2"))


def test_a_consistent_change_and_rate_is_kept_without_a_flag(indicators):
    coke = indicators["焦炭单位产品综合能耗（捣固焦炉）"]
    assert (coke.baseline, coke.target, coke.change) == (Decimal("137.02"), Decimal("110"), "27.02/〔-19.7%〕")
    assert coke.flags == []


def test_the_stated_changes_in_annex_two_agree_with_their_figures(indicators):
    for name in ("水泥熟料单位产品综合能耗", "炼钢转炉工序综合能耗", "硅铁单位产品综合能耗",
                 "高碳铬铁单位产品综合能耗", "电解铝铝液交流电耗", "城镇新建建筑执行绿色建筑标准比例",
                 "公共机构单位建筑面积能耗", "公共机构人均综合能耗"):
        assert not [f for f in indicators[name].flags if "不一致" in f], name


def test_every_indicator_value_is_literally_in_its_row(plan, source_lines):
    for indicator in plan.indicators:
        cells = source_lines[indicator.line].split("\t")
        assert normalise_line(cells[0]) == indicator.name
        for value in (indicator.baseline, indicator.target):
            if value is not None:
                assert str(value) in [c.strip() for c in indicator.raw_cells], (indicator.name, value)
                assert str(value) in [c.strip() for c in cells], (indicator.name, value)


def test_each_warning_points_at_the_source_line_it_is_about(plan, source_lines):
    assert plan.warnings
    for warning in plan.warnings:
        assert warning.line is not None
        quoted = re.search(r"“([^”]+)”", warning.message).group(1)
        assert quoted in normalise_line(source_lines[warning.line]), (warning.line, warning.message)
