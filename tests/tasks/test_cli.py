"""`tracker plan …` and `tracker db upgrade`: the interfaces other tools rely on."""
from __future__ import annotations

import json

from sqlmodel import select

from tracker.tasks.models import Task
from tests.conftest import GENRE, HOHHOT


def test_plan_import_prints_a_summary_and_exits_zero(runner):
    result = runner.invoke(args=["plan", "import", str(HOHHOT), "--slug", "hohhot"])
    assert result.exit_code == 0, result.output
    assert "任务 21 项" in result.output and "第 118 行" in result.output


def test_plan_import_dry_run_writes_nothing(runner, session):
    result = runner.invoke(args=["plan", "import", str(HOHHOT), "--dry-run"])
    assert result.exit_code == 0 and "试运行" in result.output
    assert session.exec(select(Task)).first() is None


def test_plan_import_of_a_bad_file_exits_non_zero_and_names_the_line(runner, tmp_path, session):
    bad = tmp_path / "bad.txt"
    bad.write_text("一、重点任务\n（一）做好某事。（牵头单位：；责任单位：）\n", encoding="utf-8")
    result = runner.invoke(args=["plan", "import", str(bad)])
    assert result.exit_code == 1
    assert "第 2 行" in result.output
    assert session.exec(select(Task)).first() is None


def test_plan_import_of_undecodable_bytes_names_the_line(runner, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes("一、任务\n第二行\n".encode() + b"\xff\xfe\xfd\x80\x81\n")
    result = runner.invoke(args=["plan", "import", str(bad)])
    assert result.exit_code == 1 and "第 3 行" in result.output and "编码" in result.output


def test_plan_list_shows_each_plan_with_its_task_count(runner):
    runner.invoke(args=["plan", "import", str(HOHHOT), "--slug", "hohhot"])
    runner.invoke(args=["plan", "import", str(GENRE / "state-council-2019-3-bonded-zones.txt"), "--slug", "bonded"])
    output = runner.invoke(args=["plan", "list"]).output
    assert "hohhot\t呼和浩特市“十四五”节能减排综合工作实施方案\t21 项任务" in output
    assert "bonded\t" in output and "21 项任务" in output


def test_plan_export_gives_the_documented_json(runner):
    runner.invoke(args=["plan", "import", str(HOHHOT), "--slug", "hohhot"])
    result = runner.invoke(args=["plan", "export", "hohhot", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert set(data) == {"slug", "title", "start_year", "end_year", "targets", "tasks", "units",
                         "unit_groups", "area_targets", "indicators"}
    first = data["tasks"][0]
    assert set(first) == {"section_number", "number", "title", "lead_units", "responsible_units",
                          "unit_groups", "targets", "text"}
    assert (first["section_number"], first["number"]) == (2, 1)
    assert first["lead_units"] == ["市工业和信息化局", "市发展改革委"]
    assert first["responsible_units"] == ["市水务局", "市生态环境局", "市市场监管局", "市大数据局"]
    assert data["tasks"][-1]["unit_groups"] == ["各旗县区、经济技术开发区、和林格尔新区"]
    factories = next(t for t in first["targets"] if t["measure"] == "创建绿色工厂")
    assert factories == {"measure": "创建绿色工厂", "comparator": ">=", "value": "35", "unit": "家",
                         "deadline_year": 2025, "text": "创建绿色工厂35家"}
    assert {"area": "托克托县", "basic_pct": "13", "incentive_pct": "14.0"} in data["area_targets"]
    group = next(g for g in data["unit_groups"] if g["name"] == "各旗县区、经济技术开发区、和林格尔新区")
    assert len(group["members"]) == 11 and "和林县" in group["members"]
    unit = next(u for u in data["units"] if u["name"] == "和林县")
    assert "和林格尔县" in unit["aliases"] and unit["kind"] == "area"
    indicator = data["indicators"][0]
    assert indicator["baseline_2020"] is None and indicator["flags"]


def test_plan_export_of_an_unknown_slug_fails(runner):
    result = runner.invoke(args=["plan", "export", "nope"])
    assert result.exit_code == 1


def test_units_load_is_idempotent(runner):
    first = runner.invoke(args=["units", "load"])
    second = runner.invoke(args=["units", "load"])
    assert first.exit_code == 0 and "新增单位 36 个" in first.output
    assert "新增单位 0 个" in second.output
