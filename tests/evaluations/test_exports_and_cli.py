"""The commands other tools rely on, the JSON export's exact structure, and the Excel workbook."""
from __future__ import annotations

import io
import json

from openpyxl import load_workbook
from sqlmodel import select

from tracker.accounts.services import COMMAND_LINE
from tracker.evaluations.models import Evaluation
from tracker.evaluations.services import exports, lifecycle, results
from tracker.reporting.models import AreaEnergyData, MeasuresScore
from tests.conftest import NOW

AREA_KEYS = {"area", "basic_target_pct", "incentive_target_pct", "intensity", "cumulative_reduction",
             "required_reduction", "target_points", "measures_points", "total", "grade", "is_vetoed",
             "is_total_exempt", "missing_inputs"}


def run_cli(runner, *args):
    return runner.invoke(args=[str(a) for a in args])


def test_evaluation_run_prints_the_new_versions_id_alone_on_the_last_line(runner, session, hand_worked):
    first = run_cli(runner, "evaluation", "run", "--plan", "hw", "--kind", "annual", "--year", 2023)
    second = run_cli(runner, "evaluation", "run", "--plan", "hw", "--kind", "annual", "--year", 2023)
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    ids = [int(result.stdout.strip().splitlines()[-1]) for result in (first, second)]
    versions = [session.get(Evaluation, i).version for i in ids]
    assert versions == [1, 2]
    assert "评定 4 个" in first.stdout


def test_evaluation_export_gives_exactly_the_documented_json(runner, hand_worked, make_task):
    make_task(hand_worked.plan, number=3, title="统筹任务")
    run_cli(runner, "evaluation", "run", "--plan", "hw", "--kind", "annual", "--year", 2023)
    result = run_cli(runner, "evaluation", "export", "--plan", "hw", "--kind", "annual", "--year", 2023,
                     "--format", "json")
    assert result.exit_code == 0, result.output
    exported = json.loads(result.stdout)
    assert set(exported) == {"kind", "year", "rule_version", "areas", "tasks"}
    assert (exported["kind"], exported["year"], exported["rule_version"]) == ("annual", 2023, 1)
    for entry in exported["areas"]:
        assert set(entry) == AREA_KEYS
        assert isinstance(entry["is_vetoed"], bool) and isinstance(entry["missing_inputs"], list)
    first = exported["areas"][0]
    assert first == {"area": "丁旗", "basic_target_pct": "13", "incentive_target_pct": "14", "intensity": "0.860000",
                     "cumulative_reduction": "0.140000", "required_reduction": "0.080162", "target_points": "49",
                     "measures_points": "55", "total": "104", "grade": "超额完成", "is_vetoed": False,
                     "is_total_exempt": True, "missing_inputs": []}
    last = exported["areas"][-1]
    assert last["area"] == "戊县" and last["grade"] is None and last["intensity"] is None
    assert last["missing_inputs"] == ["2023年能源数据"]
    assert exported["tasks"] == [{"section_number": None, "number": 3, "title": "统筹任务", "score": "0",
                                  "grade": "未评价"}]


def test_evaluation_export_of_an_evaluation_never_computed_exits_one(runner, hand_worked):
    result = run_cli(runner, "evaluation", "export", "--plan", "hw", "--kind", "final", "--year", 2025,
                     "--format", "json")
    assert result.exit_code == 1 and "还没有计算过" in result.stderr


def test_evaluation_run_with_a_wrong_year_or_plan_exits_one_in_chinese(runner, hand_worked):
    wrong_year = run_cli(runner, "evaluation", "run", "--plan", "hw", "--kind", "midterm", "--year", 2024)
    assert wrong_year.exit_code == 1 and "2023" in wrong_year.stderr
    wrong_plan = run_cli(runner, "evaluation", "run", "--plan", "nope", "--kind", "annual", "--year", 2023)
    assert wrong_plan.exit_code == 1 and "没有标识为 nope 的计划" in wrong_plan.stderr


def test_energy_import_loads_a_good_file_and_refuses_a_bad_one_line_by_line(runner, session, tmp_path, hand_worked):
    good = tmp_path / "energy.csv"
    good.write_bytes("area,year,energy_tce,gdp_10k_yuan,renewable_tce,feedstock_tce\n戊县,2023,900,1000,0,0\n"
                     .encode("gb18030"))
    result = run_cli(runner, "energy", "import", good, "--plan", "hw")
    assert result.exit_code == 0 and "新增 1 行" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("area,year,energy_tce,gdp_10k_yuan,renewable_tce,feedstock_tce\n戊县,2023,x,1000,0,0\n"
                   "某地,2023,1,1,0,0\n", encoding="utf-8")
    refused = run_cli(runner, "energy", "import", bad, "--plan", "hw")
    assert refused.exit_code == 1
    assert "第 2 行：能源消费总量应为数字" in refused.stderr and "第 3 行：地区“某地”不在单位目录中" in refused.stderr
    assert session.exec(select(AreaEnergyData).where(AreaEnergyData.year == 2023,
                                                     AreaEnergyData.unit_id == hand_worked["戊县"].id)).one() \
        .energy_tce == 900


def test_measures_import_uses_the_latest_plan_when_none_is_named(runner, session, tmp_path, hand_worked):
    path = tmp_path / "measures.csv"
    path.write_text("area,year,measures_score,note\n戊县,2024,45,完成节能审查\n", encoding="utf-8-sig")
    result = run_cli(runner, "measures", "import", path)
    assert result.exit_code == 0, result.output
    assert session.exec(select(MeasuresScore).where(MeasuresScore.year == 2024)).one().note == "完成节能审查"
    path.write_text("area,year,measures_score,note\n戊县,2024,99,\n", encoding="utf-8")
    refused = run_cli(runner, "measures", "import", path)
    assert refused.exit_code == 1 and "第 2 行：措施得分应在 0 到 60 之间" in refused.stderr


def test_the_workbook_has_the_results_the_inputs_and_no_formula_from_text(session, hand_worked, make_task):
    note_row = session.exec(select(MeasuresScore).where(MeasuresScore.unit_id == hand_worked["甲区"].id)).one()
    note_row.note = "=HYPERLINK(\"http://evil\",\"点击\")"
    make_task(hand_worked.plan, number=4, title="@SUM(1+1)")
    session.flush()
    evaluation = lifecycle.run_evaluation(session, hand_worked.plan, kind="annual", year=2023, actor=COMMAND_LINE,
                                          now=NOW)
    buffer = io.BytesIO()
    exports.write_workbook(results.evaluation_report(session, evaluation), buffer)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["地区结果", "计算过程", "输入数据", "任务评价", "牵头单位汇总"]
    rows = list(book["地区结果"].iter_rows(values_only=True))
    assert rows[1][:2] == (1, "丁旗") and float(rows[1][9]) == 104 and rows[1][10] == "超额完成"
    inputs = list(book["输入数据"].iter_rows(values_only=True))
    assert any(row[-1] == "'=HYPERLINK(\"http://evil\",\"点击\")" for row in inputs)
    assert any(row[0] == "甲区" and row[1] == 2023 and float(row[2]) == 990 for row in inputs)
    tasks = list(book["任务评价"].iter_rows(values_only=True))
    assert tasks[1][1] == "'@SUM(1+1)"
    steps = list(book["计算过程"].iter_rows(values_only=True))
    assert any("r = 1 − 0.900000 ÷ 1.000000 = 0.100000" in (row[3] or "") for row in steps)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and value.startswith(("=", "+", "-", "@"))), value
