"""Focused rules of the parser, each shown on the smallest plan text that exercises it."""
from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest

from tracker.tasks.parsing import PlanParseError, parse_plan, read_document
from tracker.tasks.parsing.repair import repair

HOHHOT = Path(__file__).resolve().parents[2] / "seed" / "hohhot-energy-saving-2021-2025.txt"
HEAD = "某市某项工作实施方案\n一、重点任务\n"


def _plan(body: str, **options):
    return parse_plan(HEAD + body, **options)


def _task(body: str, **options):
    [task] = _plan(body, **options).tasks
    return task


def _roles(task):
    return [(o.name, o.role, o.is_group) for o in task.owners]


# --- annotation habits of the genre -----------------------------------------------------------

def test_lead_and_responsible_labels_name_a_lead_and_a_responsible_unit():
    task = _task("（一）做好某事。（牵头单位：市甲局；责任单位：市乙局）")
    assert _roles(task) == [("市甲局", "lead", False), ("市乙局", "responsible", False)]


def test_several_labelled_leads_all_lead():
    task = _task("（一）做好某事。（牵头单位：市甲局、乙局；责任单位：市丙局）")
    assert task.names("lead") == ["市甲局", "市乙局"]
    assert task.names("responsible") == ["市丙局"]


def test_cooperating_units_are_responsible():
    task = _task("（一）做好某事。（牵头单位：市甲局；配合单位：市乙局、丙局）")
    assert task.names("lead") == ["市甲局"]
    assert task.names("responsible") == ["市乙局", "市丙局"]


def test_a_unit_leading_with_others_taking_part():
    task = _task("（一）做好某事。（市甲局牵头，市乙局、丙局参与）")
    assert task.names("lead") == ["市甲局"]
    assert task.names("responsible") == ["市乙局", "市丙局"]


def test_a_unit_acting_together_with_another_leads_it():
    task = _task("（一）做好某事。（市甲局会同市乙局负责）")
    assert _roles(task) == [("市甲局", "lead", False), ("市乙局", "responsible", False)]


def test_together_with_relevant_departments_makes_the_group_responsible():
    task = _task("（一）做好某事。（市甲局会同有关部门负责）")
    assert _roles(task) == [("市甲局", "lead", False), ("各有关部门", "responsible", True)]


def test_the_guiding_unit_leads_and_the_implementing_unit_is_responsible():
    task = _task("（一）做好某事。（市甲局指导，市乙局负责落实）")
    assert _roles(task) == [("市甲局", "lead", False), ("市乙局", "responsible", False)]


def test_a_plain_list_is_led_by_its_first_named_unit():
    task = _task("（一）做好某事。（市甲局、乙局、丙局负责）")
    assert task.names("lead") == ["市甲局"]
    assert task.names("responsible") == ["市乙局", "市丙局"]


def test_without_the_first_named_rule_every_unit_of_a_lead_less_list_leads():
    task = _task("（一）做好某事。（市甲局、乙局、丙局负责）", first_named_leads=False)
    assert task.names("lead") == ["市甲局", "市乙局", "市丙局"]
    assert task.names("responsible") == []


def test_without_the_first_named_rule_a_responsible_only_label_makes_every_unit_lead():
    task = _task("（一）做好某事。（责任单位：市甲局、乙局）", first_named_leads=False)
    assert task.names("lead") == ["市甲局", "市乙局"]


def test_without_the_first_named_rule_an_explicit_lead_still_decides():
    task = _task("（一）做好某事。（牵头单位：市甲局；责任单位：市乙局）", first_named_leads=False)
    assert task.names("lead") == ["市甲局"] and task.names("responsible") == ["市乙局"]


def test_each_according_to_its_duties_is_not_part_of_a_name():
    task = _task("（一）做好某事。（市甲局、乙局等按职责分工负责）")
    assert task.names("lead") == ["市甲局"]
    assert task.names("responsible") == ["市乙局"]


def test_a_trailing_deng_is_not_a_unit():
    task = _task("（一）做好某事。（市甲局、乙局等负责）")
    assert [o.name for o in task.owners] == ["市甲局", "市乙局"]


def test_deng_before_relevant_departments_names_the_group():
    task = _task("（一）做好某事。（市甲局等有关部门负责）")
    assert _roles(task) == [("市甲局", "lead", False), ("各有关部门", "responsible", True)]


def test_a_group_named_alone_carries_the_task_as_a_group():
    task = _task("（一）做好某事。（各区、县级市负责）")
    assert task.names("lead") == [] and task.group_names == ["各区、县级市"]


def test_the_autonomous_region_prefix_distributes_over_the_list():
    task = _task("（一）做好某事。（自治区发展改革委、工业和信息化厅负责）")
    assert [o.name for o in task.owners] == ["自治区发展改革委", "自治区工业和信息化厅"]


def test_the_province_prefix_distributes_over_the_list():
    task = _task("（一）做好某事。（牵头单位：省发展改革委；责任单位：财政厅、省级财政部门）")
    assert task.names("lead") == ["省发展改革委"]
    assert task.names("responsible")[0] == "省财政厅"


def test_the_prefix_of_the_lead_list_carries_into_the_responsible_list():
    task = _task("（一）做好某事。（牵头单位：市甲局；责任单位：乙局）")
    assert task.names("responsible") == ["市乙局"]


def test_a_body_that_carries_its_own_level_takes_no_prefix():
    task = _task("（一）做好某事。（市甲局、团市委、中共某某委员会负责）")
    assert [o.name for o in task.owners] == ["市甲局", "团市委", "中共某某委员会"]


def test_the_lead_rule_stated_with_xia_tong_is_recorded():
    plan = _plan("（一）做好某事。（甲部、乙部负责。列第一位者为牵头单位，下同）\n（二）做好另一事。（乙部、丙部负责）")
    assert plan.lead_rule_text == "列第一位者为牵头单位，下同"
    assert [t.names("lead") for t in plan.tasks] == [["甲部"], ["乙部"]]


def test_the_lead_rule_is_not_mistaken_for_a_unit():
    plan = _plan("（一）做好某事。（甲部、乙部负责。列第一位者为牵头单位，下同）\n（二）做好另一事。（丙部负责）")
    names = [o.name for t in plan.tasks for o in t.owners]
    assert names == ["甲部", "乙部", "丙部"]


def test_units_marked_xia_tong_carry_every_later_task():
    plan = _plan("（一）做好某事。（市甲局、乙局负责，下同）\n（二）做好另一事。（市丙局负责）")
    second = plan.tasks[1]
    assert second.names("lead") == ["市丙局"]
    assert [(o.name, o.is_carried_forward) for o in second.owners[1:]] == [("市甲局", True), ("市乙局", True)]


def test_a_carry_forward_clause_adds_its_group_to_every_later_task_only():
    plan = _plan("（一）做好某事。（市甲局负责）\n"
                 "（二）做好另一事。（牵头单位：市乙局；责任单位：各区县。以下均需各区县落实，不再列出）\n"
                 "（三）做好第三件事。（市丙局负责）")
    first, second, third = plan.tasks
    assert first.group_names == []
    assert [(o.name, o.is_carried_forward) for o in second.owners if o.is_group] == [("各区县", False)]
    assert [(o.name, o.role, o.is_carried_forward) for o in third.owners if o.is_group] == [
        ("各区县", "responsible", True)]


def test_an_annotation_in_the_middle_of_a_paragraph_is_found():
    task = _task("（一）做好某事。推进甲事（市甲局负责），推进乙事（市乙局负责）。")
    assert task.annotations == ["（市甲局负责）", "（市乙局负责）"]
    assert task.names("lead") == ["市甲局"] and task.names("responsible") == ["市乙局"]


def test_an_annotation_on_a_paragraph_below_the_clause_line_belongs_to_the_clause():
    task = _task("（一）做好某事。推进甲事。\n推进乙事。（牵头单位：市甲局）")
    assert task.names("lead") == ["市甲局"]
    assert task.owners[0].line == 4


def test_a_bracket_of_prose_is_not_an_annotation():
    task = _task("（一）做好某事。支持职业院校（含技工院校）开展培训，数据中心电能利用效率（PUE值）不超过1.2。"
                 "（市甲局负责）")
    assert task.annotations == ["（市甲局负责）"]
    assert [o.name for o in task.owners] == ["市甲局"]
    [target] = task.targets
    assert target.measure == "数据中心电能利用效率（PUE值）"
    assert (target.comparator, target.value) == ("<=", Decimal("1.2"))


def test_items_under_an_annotated_clause_inherit_its_annotation():
    plan = _plan("（一）做好某事。（牵头单位：市甲局；责任单位：市乙局）\n1.做甲事。\n2.做乙事。")
    assert [t.key for t in plan.tasks] == ["1.1.1", "1.1.2"]
    assert [(t.level, t.clause_number, t.number) for t in plan.tasks] == [("item", 1, 1), ("item", 1, 2)]
    for task in plan.tasks:
        assert task.names("lead") == ["市甲局"] and task.names("responsible") == ["市乙局"]


def test_an_item_with_its_own_annotation_keeps_it_over_the_clauses():
    plan = _plan("（一）做好某事。（市甲局负责）\n1.做甲事。\n2.做乙事。（市乙局负责）")
    assert [t.names("lead") for t in plan.tasks] == [["市甲局"], ["市乙局"]]


def test_a_clause_without_an_annotation_anywhere_is_not_a_task():
    plan = _plan("（一）总体目标。到2025年，某指标达到90%。\n（二）做好某事。（市甲局负责）")
    assert [t.key for t in plan.tasks] == ["1.2"]
    assert [(t.measure, t.value) for t in plan.targets] == [("某指标", Decimal("90"))]


# --- repairing extraction damage --------------------------------------------------------------

def test_bold_markers_are_removed_from_titles_and_labels():
    task = _task("（一）**做好某事**。（**牵头单位**：市甲局；**责任单位：**市乙局）")
    assert task.title == "做好某事"
    assert task.names("lead") == ["市甲局"] and task.names("responsible") == ["市乙局"]
    assert "*" not in task.text


def test_half_width_brackets_read_as_full_width():
    task = _task("(一) 做好某事。(牵头单位：市甲局；责任单位：市乙局)")
    assert task.label == "（一）"
    assert task.annotations == ["（牵头单位：市甲局；责任单位：市乙局）"]
    assert task.names("lead") == ["市甲局"]


def test_a_half_width_colon_after_a_label_reads_as_full_width():
    task = _task("（一）做好某事。（牵头单位:市甲局;责任单位:市乙局）")
    assert task.names("lead") == ["市甲局"] and task.names("responsible") == ["市乙局"]


def test_spaces_beside_chinese_characters_are_removed():
    task = _task("（一） 做好 某事。到 2025 年，创建 绿色工厂 35 家。（牵头单位： 市 甲局）")
    assert task.title == "做好某事"
    assert task.names("lead") == ["市甲局"]
    [target] = task.targets
    assert (target.measure, target.value, target.unit) == ("创建绿色工厂", Decimal("35"), "家")


def test_a_page_break_inside_a_sentence_is_joined_without_a_space():
    plan = _plan("（一）推进工业和信息\n\n化发展。（牵头单位：市工业和信息\n\n化局）")
    [task] = plan.tasks
    assert task.title == "推进工业和信息化发展"
    assert task.names("lead") == ["市工业和信息化局"]
    assert task.owners[0].line == 5


def test_a_section_heading_is_not_joined_to_the_paragraph_below_it():
    paragraphs = repair("某市某项工作实施方案\n\n一、重点任务\n\n围绕目标开展工作\n（一）做事。（市甲局负责）")
    assert [p.text for p in paragraphs] == ["某市某项工作实施方案", "一、重点任务", "围绕目标开展工作",
                                            "（一）做事。（市甲局负责）"]
    assert [p.line for p in paragraphs] == [1, 3, 5, 6]


def test_a_document_number_under_the_title_is_not_joined_to_the_addressees():
    plan = parse_plan("国务院关于某项工作的意见\n国发〔2018〕1号\n\n各省、自治区、直辖市人民政府：\n"
                      "一、重点任务\n（一）做好某事。（甲部负责）")
    assert plan.doc_number == "国发〔2018〕1号"
    assert plan.title == "国务院关于某项工作的意见"


def test_a_paragraph_ending_in_a_full_stop_is_not_joined_to_the_next():
    paragraphs = repair("（一）做好某事。\n推进甲事。")
    assert [p.text for p in paragraphs] == ["（一）做好某事。", "推进甲事。"]


def test_a_new_numbered_clause_is_never_joined_to_an_unfinished_line():
    paragraphs = repair("（一）做好某事，推进\n\n（二）做好另一事。")
    assert [p.text for p in paragraphs] == ["（一）做好某事，推进", "（二）做好另一事。"]


def test_table_rows_are_never_joined():
    paragraphs = repair("地区\t基本目标\n甲区\t12\n说明文字")
    assert [p.text for p in paragraphs] == ["地区\t基本目标", "甲区\t12", "说明文字"]


def test_a_page_break_after_a_colon_inside_an_annotation_is_joined():
    task = _task("（一）做好某事。（牵头单位：\n\n市甲局；责任单位：市乙局）")
    assert task.names("lead") == ["市甲局"] and task.names("responsible") == ["市乙局"]


def test_a_page_break_after_a_full_stop_inside_an_annotation_keeps_the_carry_forward():
    plan = _plan("（一）做好某事。（牵头单位：市甲局；责任单位：各区县。\n\n以下均需各区县落实，不再列出）\n"
                 "（二）做好另一事。（市乙局负责）")
    assert [(o.name, o.is_carried_forward) for o in plan.tasks[1].owners if o.is_group] == [("各区县", True)]


def test_a_page_break_right_after_a_clause_label_keeps_the_title():
    task = _task("（一）\n\n做好某事。（牵头单位：市甲局）")
    assert (task.label, task.title) == ("（一）", "做好某事")


def test_a_page_break_after_a_bracket_of_prose_is_joined():
    task = _task("（一）做好某事。数据中心电能利用效率（PUE值）\n\n不超过1.2。（市甲局负责）")
    [target] = task.targets
    assert (target.measure, target.comparator, target.value) == ("数据中心电能利用效率（PUE值）", "<=", Decimal("1.2"))


def test_a_page_break_after_a_closing_quote_mid_sentence_is_joined():
    paragraphs = repair("（一）做好某事。新投产“两高”\n\n项目全部纳入在线监测。")
    assert [p.text for p in paragraphs] == ["（一）做好某事。新投产“两高”项目全部纳入在线监测。"]


def test_a_line_ending_in_an_annotation_ends_its_paragraph():
    paragraphs = repair("（一）做好某事。（市甲局负责）\n推进甲事。")
    assert [p.text for p in paragraphs] == ["（一）做好某事。（市甲局负责）", "推进甲事。"]


def test_a_line_that_is_all_bracket_ends_its_paragraph():
    paragraphs = repair("（此件公开发布）\n\n“无废城市”建设试点工作方案")
    assert [p.text for p in paragraphs] == ["（此件公开发布）", "“无废城市”建设试点工作方案"]


def test_a_short_title_ending_in_a_bracket_is_not_joined_to_the_next_line():
    plan = parse_plan("某市某项工作实施方案（试行）\n各区人民政府：\n一、重点任务\n（一）做好某事。（市甲局负责）")
    assert plan.title == "某市某项工作实施方案（试行）"


# --- documents that cannot be imported --------------------------------------------------------

@pytest.mark.parametrize("text", ["", "\n\n", "  \u3000\n \n"])
def test_an_empty_text_is_refused(text):
    with pytest.raises(PlanParseError) as error:
        parse_plan(text)
    assert error.value.problems == [(1, "文件是空的")]


def test_a_text_without_numbered_clauses_is_refused_as_not_a_plan():
    with pytest.raises(PlanParseError) as error:
        parse_plan("会议纪要\n\n今天开会讨论了节能工作。\n大家都发了言。")
    [(line, message)] = error.value.problems
    assert "条款编号" in message and line is not None


def test_a_label_naming_nobody_is_refused_on_its_line():
    with pytest.raises(PlanParseError) as error:
        _plan("（一）做好某事。（牵头单位：市甲局）\n（二）做好另一事。（牵头单位：）")
    [(line, message)] = error.value.problems
    assert line == 4
    assert "牵头单位" in message and "没有写明任何单位" in message


def test_a_responsible_label_naming_nobody_is_refused_too():
    with pytest.raises(PlanParseError) as error:
        _plan("（一）做好某事。\n\n（二）做好另一事。（牵头单位：市甲局；责任单位：）")
    [(line, message)] = error.value.problems
    assert line == 5 and "责任单位" in message


def test_every_empty_label_is_reported_at_once():
    with pytest.raises(PlanParseError) as error:
        _plan("（一）做好某事。（牵头单位：）\n（二）做好另一事。（责任单位：）")
    assert [line for line, _ in error.value.problems] == [3, 4]
    assert "第 3 行" in str(error.value) and "第 4 行" in str(error.value)


def test_a_plan_whose_clauses_name_no_unit_is_refused():
    with pytest.raises(PlanParseError) as error:
        _plan("（一）做好某事。\n（二）做好另一事（含某某事项）。")
    [(line, message)] = error.value.problems
    assert line == 2 and "牵头单位" in message


# --- reading uploaded files -------------------------------------------------------------------

def test_a_utf8_file_with_a_byte_order_mark_reads_without_it():
    text = HEAD + "（一）做好某事。（市甲局负责）"
    read = read_document(b"\xef\xbb\xbf" + text.encode("utf-8"), "plan.txt")
    assert read == text
    assert parse_plan(read).title == "某市某项工作实施方案"


def test_the_hohhot_plan_in_gb18030_parses_exactly_as_in_utf8():
    text = HOHHOT.read_text(encoding="utf-8")
    from_gb = read_document(text.encode("gb18030"), "plan.txt")
    assert from_gb == text
    assert parse_plan(from_gb) == parse_plan(read_document(text.encode("utf-8"), "plan.txt"))


def test_bytes_that_are_no_known_encoding_are_refused_with_a_line_number():
    with pytest.raises(PlanParseError) as error:
        read_document(b"\xff\xfe\x00\x00garbage\n\xff", "plan.txt")
    [(line, message)] = error.value.problems
    assert line == 1 and "编码" in message


def test_an_unreadable_byte_is_reported_on_its_own_line():
    data = (HEAD + "（一）做好某事。\n").encode("utf-8") + b"\xff\xff\n"
    with pytest.raises(PlanParseError) as error:
        read_document(data, "plan.txt")
    assert error.value.problems[0][0] == 4


def test_a_binary_file_is_refused_as_not_text():
    with pytest.raises(PlanParseError) as error:
        read_document("一、任务\n".encode("utf-8") + b"\x00\x01\x02", "plan.txt")
    [(line, message)] = error.value.problems
    assert line == 2 and "二进制" in message


def _docx_bytes() -> bytes:
    from docx import Document

    document = Document()
    for text in ("某市某项工作实施方案", "一、重点任务", "（一）做好某事。（牵头单位：市甲局；责任单位：市乙局）",
                 "附件1", "各地区能耗强度降低目标"):
        document.add_paragraph(text)
    table = document.add_table(rows=3, cols=3)
    for row, cells in zip(table.rows, [("地区", "能耗强度降低基本目标(%)", "能耗强度降低激励目标(%)"),
                                       ("甲区", "12", "13.5"), ("乙区", "11", "12.0")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.add_paragraph("（此件公开发布）")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_docx_is_read_paragraph_by_paragraph_with_table_cells_tab_separated():
    text = read_document(_docx_bytes(), "plan.docx")
    lines = text.split("\n")
    assert lines[:3] == ["某市某项工作实施方案", "一、重点任务", "（一）做好某事。（牵头单位：市甲局；责任单位：市乙局）"]
    assert "地区\t能耗强度降低基本目标(%)\t能耗强度降低激励目标(%)" in lines
    assert "甲区\t12\t13.5" in lines
    assert lines.index("甲区\t12\t13.5") > lines.index("各地区能耗强度降低目标")


def test_a_docx_is_recognised_by_its_content_without_a_file_name():
    assert read_document(_docx_bytes()) == read_document(_docx_bytes(), "plan.docx")


def test_a_docx_plan_parses_into_tasks_and_area_targets():
    plan = parse_plan(read_document(_docx_bytes(), "plan.docx"))
    [task] = plan.tasks
    assert task.names("lead") == ["市甲局"] and task.names("responsible") == ["市乙局"]
    assert [(a.area, a.basic_pct, a.incentive_pct) for a in plan.area_targets] == [
        ("甲区", Decimal("12"), Decimal("13.5")), ("乙区", Decimal("11"), Decimal("12.0"))]


def test_a_broken_docx_is_refused_in_words():
    with pytest.raises(PlanParseError) as error:
        read_document(b"PK\x03\x04 this is not really a zip", "plan.docx")
    assert ".docx" in str(error.value)


# --- annex tables -----------------------------------------------------------------------------

INDICATOR_HEADER = "指标\t单位\t2020年实际值\t2025年目标值\t变化幅度/变化率%\n工业\t\t\t\t\n"


def _annex(rows: str):
    return _plan("（一）做好某事。（市甲局负责）\n附件2\n某市主要行业节能指标\n" + rows)


def test_a_stated_rate_that_disagrees_with_baseline_and_target_is_flagged_with_both_numbers():
    plan = _annex(INDICATOR_HEADER + "甲产品单位能耗\t千克标准煤/吨\t100\t90\t〔-15%〕")
    [indicator] = plan.indicators
    assert (indicator.baseline, indicator.target, indicator.change) == (Decimal("100"), Decimal("90"), "〔-15%〕")
    [flag] = indicator.flags
    assert "-15%" in flag and "-10.00%" in flag
    [warning] = plan.warnings
    assert warning.line == 8 and "甲产品单位能耗" in warning.message


def test_a_stated_absolute_change_that_disagrees_is_flagged_with_both_numbers():
    plan = _annex(INDICATOR_HEADER + "甲产品单位能耗\t千克标准煤/吨\t100\t90\t5/〔-10%〕")
    [flag] = plan.indicators[0].flags
    assert "5" in flag and "-10" in flag and "不一致" in flag


def test_a_rate_within_rounding_of_the_figures_is_not_flagged():
    # 110 / 137.02 − 1 = −19.72 %, printed −19.7 %
    plan = _annex(INDICATOR_HEADER + "焦炭单位产品综合能耗\t千克标准煤/吨\t137.02\t110\t27.02/〔-19.7%〕")
    assert plan.indicators[0].flags == []
    assert plan.warnings == []


def test_a_cell_with_another_unit_is_not_taken_as_the_indicators_value():
    plan = _annex(INDICATOR_HEADER + "火电供电煤耗\t克标准煤/千瓦时\t300 亿千瓦时\t290\t")
    [indicator] = plan.indicators
    assert indicator.baseline is None and indicator.target == Decimal("290")
    assert any("亿千瓦时" in f and "克标准煤/千瓦时" in f for f in indicator.flags)


def test_a_sector_row_names_the_sector_of_the_rows_below():
    plan = _annex(INDICATOR_HEADER + "甲指标\t%\t10\t20\t10\n建筑\t\t\t\t\n乙指标\t%\t50\t100\t50")
    assert [(i.sector, i.name) for i in plan.indicators] == [("工业", "甲指标"), ("建筑", "乙指标")]
    assert all(i.flags == [] for i in plan.indicators)


def test_an_area_whose_incentive_target_is_below_its_basic_target_is_flagged():
    plan = _plan("（一）做好某事。（市甲局负责）\n附件1\n各地区目标\n"
                 "地区\t能耗强度降低基本目标(%)\t能耗强度降低激励目标(%)\n甲区\t12\t11\n乙区\t12\t13")
    first, second = plan.area_targets
    assert (first.basic_pct, first.incentive_pct) == (Decimal("12"), Decimal("11"))
    [flag] = first.flags
    assert "11" in flag and "12" in flag and "低于" in flag
    assert second.flags == []
    [warning] = plan.warnings
    assert warning.line == 7 and "甲区" in warning.message


def test_an_area_row_with_a_dash_keeps_no_value_and_is_flagged():
    plan = _plan("（一）做好某事。（市甲局负责）\n附件1\n各地区目标\n"
                 "地区\t能耗强度降低基本目标(%)\t能耗强度降低激励目标(%)\n甲区\t—\t13")
    [area] = plan.area_targets
    assert area.basic_pct is None and area.incentive_pct == Decimal("13")
    assert area.flags == ["缺少能耗强度降低基本目标"]
