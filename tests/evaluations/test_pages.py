"""The evaluation pages: actions by role, explained results, grids, charts, access and query budgets.

Access decided here: a unit user who opens a data grid, or anyone who may not save one, gets 403 (the page
exists, the action is refused); an unpublished evaluation answers 404 to unit staff, as if it did not exist.
"""
from __future__ import annotations

import html
import io
import json
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.evaluations.models import Evaluation, EvaluationStatus, RuleSet
from tracker.evaluations.services import lifecycle, publish
from tracker.reporting.models import AreaEnergyData, IndicatorValue
from tracker.tasks.models import Indicator
from tests.conftest import NOW
from tests.evaluations.conftest import add_areas


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def computed(session, world, **options):
    return lifecycle.run_evaluation(session, world.plan, kind=options.get("kind", "annual"),
                                    year=options.get("year", 2023), actor=COMMAND_LINE, now=NOW)


def test_a_coordinator_creates_collects_computes_and_publishes_in_the_browser(client, auth, session, hand_worked):
    auth.login_as(UserRole.coordinator)
    assert "能耗评价" in text_of(client.get("/evaluations"))
    created = client.post("/evaluations/new", data={"plan": "hw", "kind": "annual", "year": "2023"})
    assert created.status_code == 302
    evaluation = session.exec(select(Evaluation)).one()
    assert evaluation.status is EvaluationStatus.draft
    assert client.post(f"/evaluations/{evaluation.id}/collect").status_code == 302
    assert client.post(f"/evaluations/{evaluation.id}/compute").status_code == 302
    assert evaluation.status is EvaluationStatus.computed
    page = text_of(client.get(f"/evaluations/{evaluation.id}"))
    assert "1 丁旗 13% 14% 0.140000 0.080162 49 55 104 超额完成" in page
    assert "乙区" in page and "一票否决" in page and "缺少：2023年能源数据" in page
    assert client.post(f"/evaluations/{evaluation.id}/publish").status_code == 302
    assert evaluation.status is EvaluationStatus.published
    again = client.post(f"/evaluations/{evaluation.id}/compute")
    newer = session.exec(select(Evaluation).where(Evaluation.version == 2)).one()
    assert again.headers["Location"].endswith(f"/evaluations/{newer.id}")
    both = text_of(client.get(f"/evaluations/{newer.id}"))
    assert "第 1 版 已发布" in both and "第 2 版 已计算" in both


def test_a_year_that_does_not_fit_the_kind_is_shown_on_its_field_with_what_was_typed(client, auth, hand_worked):
    auth.login_as(UserRole.office)
    response = client.post("/evaluations/new", data={"plan": "hw", "kind": "midterm", "year": "2024"})
    assert response.status_code == 422
    assert "中期评估的年份应为 2023 年" in text_of(response) and 'value="2024"' in response.get_data(as_text=True)


def test_the_area_page_explains_every_step_with_the_numbers_and_shows_the_chart(client, auth, session, hand_worked):
    evaluation = computed(session, hand_worked)
    auth.login_as(UserRole.leader)
    page = text_of(client.get(f"/evaluations/{evaluation.id}/areas/{hand_worked['丙县'].id}"))
    for expected in ("1000 − 0 − 50 = 950 吨标准煤", "I_2023 = 950 ÷ 1050 = 0.904762 吨标准煤/万元",
                     "r = 1 − 0.904762 ÷ 1.000000 = 0.095238", "R_3 = 1 − (1 − 0.11)^(3/5) = 0.067532",
                     "c = ln(1 − 0.095238) ÷ ln(1 − 0.067532)", "= 1.431394", "目标得分 40 + 9 = 49",
                     "49 + 35 = 84", "等级为“完成”", "丙县措施评分说明", "达到序时进度，不适用一票否决",
                     "规则：几何路径（序时进度）"):
        assert expected in page, expected
    assert f'src="/evaluations/{evaluation.id}/areas/{hand_worked["丙县"].id}/chart.svg"' in \
        client.get(f"/evaluations/{evaluation.id}/areas/{hand_worked['丙县'].id}").get_data(as_text=True)
    missing = text_of(client.get(f"/evaluations/{evaluation.id}/areas/{hand_worked['戊县'].id}"))
    assert "缺少的数据 2023年能源数据（不评定等级）" in missing


def test_a_chart_is_svg_without_script_under_a_policy_that_allows_only_its_own_style(client, auth, session,
                                                                                    hand_worked):
    evaluation = computed(session, hand_worked)
    auth.login_as(UserRole.coordinator)
    response = client.get(f"/evaluations/{evaluation.id}/areas/{hand_worked['甲区'].id}/chart.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    svg = response.get_data(as_text=True)
    assert "<script" not in svg and "<svg" in svg and "序时进度要求" in svg and "激励目标" in svg


def test_a_published_version_shows_its_snapshot_even_after_the_data_changed(client, auth, session, hand_worked):
    evaluation = publish.publish_evaluation(session, computed(session, hand_worked), actor=COMMAND_LINE, now=NOW)
    auth.login_as(UserRole.unit)
    before = client.get(f"/evaluations/{evaluation.id}/results.json").get_data()
    for row in session.exec(select(AreaEnergyData)):
        row.energy_tce = Decimal(5)
        row.renewable_tce = row.feedstock_tce = Decimal(0)
    hand_worked["丁旗"].name = "改名后的丁旗"
    session.commit()
    assert client.get(f"/evaluations/{evaluation.id}/results.json").get_data() == before
    page = text_of(client.get(f"/evaluations/{evaluation.id}/areas/{hand_worked['丁旗'].id}"))
    assert "丁旗：2023年年度评价" in page and "改名后的丁旗" not in page and "1032" in page


def test_unit_staff_read_published_results_only_and_cannot_open_the_data_grids(client, auth, session, hand_worked):
    evaluation = computed(session, hand_worked)
    auth.login_as(UserRole.unit)
    assert client.get(f"/evaluations/{evaluation.id}").status_code == 404
    assert client.get(f"/evaluations/{evaluation.id}/results.xlsx").status_code == 404
    assert "还没有已发布的评价结果" in text_of(client.get("/evaluations"))
    assert client.get("/evaluations/energy/hw/2023").status_code == 403
    posted = client.post("/evaluations/energy/hw/2023", data={f"energy_tce-{hand_worked['戊县'].id}": "1"})
    assert posted.status_code == 403
    assert client.get("/evaluations/measures/hw/2023").status_code == 403
    assert client.post(f"/evaluations/{evaluation.id}/publish").status_code == 404
    publish.publish_evaluation(session, evaluation, actor=COMMAND_LINE, now=NOW)
    assert client.get(f"/evaluations/{evaluation.id}").status_code == 200
    assert client.post(f"/evaluations/{evaluation.id}/compute").status_code == 403
    assert session.exec(select(Evaluation)).one().version == 1


def test_a_leader_reads_the_grid_but_may_not_save_it(client, auth, hand_worked):
    auth.login_as(UserRole.leader)
    page = client.get("/evaluations/energy/hw/2023")
    assert page.status_code == 200 and "990" in text_of(page) and "<input class=\"input input-cell\"" not in \
        page.get_data(as_text=True)
    assert client.post("/evaluations/energy/hw/2023", data={}).status_code == 403


def test_the_grid_shows_each_error_on_its_cell_and_keeps_every_typed_value(client, auth, session, hand_worked):
    auth.login_as(UserRole.coordinator)
    unit = hand_worked["戊县"].id
    response = client.post("/evaluations/energy/hw/2023", data={
        f"energy_tce-{unit}": "500", f"gdp_10k_yuan-{unit}": "0", f"renewable_tce-{unit}": "300",
        f"feedstock_tce-{unit}": "300"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(rf'id="gdp_10k_yuan-{unit}"[^>]*value="0"|name="gdp_10k_yuan-{unit}" value="0"', page)
    assert f'name="energy_tce-{unit}" value="500"' in page
    assert f'<p class="field-error" id="gdp_10k_yuan-{unit}-error">地区生产总值应大于 0</p>' in page
    assert session.exec(select(AreaEnergyData).where(AreaEnergyData.unit_id == unit,
                                                     AreaEnergyData.year == 2023)).first() is None
    fixed = client.post("/evaluations/energy/hw/2023", data={
        f"energy_tce-{unit}": "500", f"gdp_10k_yuan-{unit}": "600", f"renewable_tce-{unit}": "0",
        f"feedstock_tce-{unit}": "0", f"energy_tce-{hand_worked['甲区'].id}": "990",
        f"gdp_10k_yuan-{hand_worked['甲区'].id}": "1100", f"renewable_tce-{hand_worked['甲区'].id}": "0",
        f"feedstock_tce-{hand_worked['甲区'].id}": "0", f"expected_total_tce-{hand_worked['甲区'].id}": "980"})
    assert fixed.status_code == 302


def test_an_energy_file_uploaded_with_bad_lines_lists_them_and_writes_nothing(client, auth, session, hand_worked):
    auth.login_as(UserRole.coordinator)
    bad = "地区,年份,能源消费总量,地区生产总值,新增可再生能源电力消费量,原料用能\n戊县,2023,1,0,0,0\n无此地,2023,1,1,0,0\n"
    response = client.post("/evaluations/energy/hw/import?year=2023", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(bad.encode("gb18030")), "能源.csv")})
    assert response.status_code == 422
    page = text_of(response)
    assert "第 2 行：地区生产总值应大于 0" in page and "第 3 行：地区“无此地”不在单位目录中" in page
    good = "area,year,measures_score,note\n戊县,2023,52,按清单评分\n"
    uploaded = client.post("/evaluations/measures/hw/import?year=2023", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(good.encode()), "m.csv")})
    assert uploaded.status_code == 302


def test_the_measures_page_saves_scores_with_notes(client, auth, hand_worked):
    auth.login_as(UserRole.coordinator)
    unit = hand_worked["乙区"].id
    assert client.post("/evaluations/measures/hw/2024", data={f"score-{unit}": "42", f"note-{unit}": "说明"}) \
        .status_code == 302
    page = client.get("/evaluations/measures/hw/2024").get_data(as_text=True)
    assert f'name="score-{unit}" value="42"' in page and f'name="note-{unit}" value="说明"' in page
    wrong = client.post("/evaluations/measures/hw/2024", data={f"score-{unit}": "70", f"note-{unit}": "超"})
    assert wrong.status_code == 422 and "措施得分应在 0 到 60 之间" in text_of(wrong)


def test_the_office_saves_a_new_rule_version_and_a_coordinator_may_only_read(client, auth, session):
    auth.login_as(UserRole.coordinator)
    page = text_of(client.get("/evaluations/rules"))
    assert "已完成 100、推进中 80、滞后 40、未启动 0" in page and "≥ 90 优秀；≥ 75 良好；≥ 60 合格；其余 不合格" in page
    assert "≥ 95 超额完成；≥ 80 完成；≥ 60 基本完成；其余 未完成" in page
    assert client.post("/evaluations/rules", data={"path_shape": "linear"}).status_code == 403
    auth.login_as(UserRole.office)
    form = {"path_shape": "linear", "target_points": "40", "bonus_per_step": "3", "bonus_cap": "9", "min_share": "0.5",
            "measures_points": "60", "band_excellent": "95", "band_complete": "80", "band_basic": "60",
            "is_veto_enabled": "y", "weight_on_time": "0.5", "weight_targets": "0.3", "weight_status": "0.2",
            "task_band_excellent": "90", "task_band_good": "75", "task_band_pass": "60", "note": "改用线性路径"}
    assert client.post("/evaluations/rules", data=form).status_code == 302
    versions = session.exec(select(RuleSet).order_by(RuleSet.version)).all()
    assert [(r.version, r.path_shape.value) for r in versions] == [(1, "geometric"), (2, "linear")]
    assert versions[1].task_weights == {"on_time": "0.5", "targets": "0.3", "status": "0.2"}
    wrong = client.post("/evaluations/rules", data={**form, "band_basic": "85"})
    assert wrong.status_code == 422 and "“基本完成”的最低分应低于“完成”的最低分" in text_of(wrong)
    assert 'value="85"' in wrong.get_data(as_text=True)


@pytest.fixture
def indicator_plan(session, hand_worked):
    rows = [Indicator(plan_id=hand_worked.plan.id, position=0, sector="工业", name="单位工业增加值能耗",
                      unit="吨标准煤/万元", baseline_year=2020, baseline_value=Decimal("2.0"), target_year=2025,
                      target_value=Decimal("1.6"), flags=[], line=1),
            Indicator(plan_id=hand_worked.plan.id, position=1, sector="电力", name="火电供电煤耗", unit="克标准煤/千瓦时",
                      baseline_year=2020, baseline_value=None, target_year=2025, target_value=Decimal("300"),
                      flags=["基期值单元格写的是“556.39亿千瓦时”，与计量单位不符，未采用"], line=2)]
    session.add_all(rows)
    session.flush()
    return rows


def test_indicator_values_show_progress_towards_the_target_or_say_why_not(client, auth, session, indicator_plan):
    auth.login_as(UserRole.coordinator)
    first, second = indicator_plan
    response = client.post("/evaluations/indicators/hw", data={f"value-{first.id}-2023": "1.8",
                                                                f"value-{second.id}-2023": "305"})
    assert response.status_code == 302
    page = text_of(client.get("/evaluations/indicators/hw"))
    # (1.8 − 2.0) ÷ (1.6 − 2.0) × 100 = 50.0 %
    assert "50.0% 2023年" in page
    assert "附件2未给出2020年实际值，无法计算进度" in page and "556.39亿千瓦时" in page
    wrong = client.post("/evaluations/indicators/hw", data={f"value-{first.id}-2024": "一点八"})
    assert wrong.status_code == 422 and 'value="一点八"' in wrong.get_data(as_text=True)
    assert session.exec(select(IndicatorValue)).all()[0].value in (Decimal("1.8"), Decimal("305"))
    chart = client.get(f"/evaluations/indicators/hw/{first.id}/chart.svg")
    assert chart.mimetype == "image/svg+xml" and "<script" not in chart.get_data(as_text=True)
    auth.login_as(UserRole.unit)
    assert client.post("/evaluations/indicators/hw", data={f"value-{first.id}-2023": "1"}).status_code == 403
    assert client.get("/evaluations/indicators/hw").status_code == 200


def test_the_excel_and_json_downloads_carry_the_results(client, auth, session, hand_worked):
    evaluation = computed(session, hand_worked)
    auth.login_as(UserRole.office)
    workbook = client.get(f"/evaluations/{evaluation.id}/results.xlsx")
    assert workbook.status_code == 200 and "filename*=UTF-8''" in workbook.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(workbook.get_data())).sheetnames[0] == "地区结果"
    exported = json.loads(client.get(f"/evaluations/{evaluation.id}/results.json").get_data())
    assert exported["areas"][0]["area"] == "丁旗"


def test_evaluation_pages_carry_no_inline_script_style_or_handler(client, auth, session, hand_worked, indicator_plan):
    evaluation = computed(session, hand_worked)
    auth.login_as(UserRole.office)
    for path in ("/evaluations", f"/evaluations/{evaluation.id}",
                 f"/evaluations/{evaluation.id}/areas/{hand_worked['甲区'].id}", "/evaluations/energy/hw/2023",
                 "/evaluations/measures/hw/2023", "/evaluations/rules", "/evaluations/indicators/hw"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert " style=" not in page and "<style" not in page, path
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", page), path
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path


# --- query budgets -------------------------------------------------------------------------------------

def build(session, make_plan, make_unit, make_task, areas: int, tasks: int, slug: str):
    world = add_areas(session, make_plan, make_unit, [(f"地区{i}", "12", "13") for i in range(areas)], slug=None)
    world.plan.slug = slug
    for index, name in enumerate(world.areas):
        world.energy(name, 2020, 1000 + index, 1000)
        world.energy(name, 2023, 900, 1000 + index)
        world.measures(name, 2023, 50)
    for index in range(tasks):
        make_task(world.plan, lead=make_unit(), number=index + 1)
    session.add_all([Indicator(plan_id=world.plan.id, position=i, sector="工业", name=f"指标{i}", unit="%",
                               baseline_year=2020, baseline_value=Decimal(1), target_year=2025,
                               target_value=Decimal(2), flags=[], line=i) for i in range(areas)])
    session.flush()
    evaluation = lifecycle.run_evaluation(session, world.plan, kind="annual", year=2023, actor=COMMAND_LINE, now=NOW)
    return world, evaluation


@pytest.mark.parametrize("page", ["index", "detail", "area", "chart", "energy", "measures", "rules", "indicators",
                                  "published_detail"])
def test_each_page_makes_the_same_number_of_queries_for_few_and_many_areas_and_tasks(
        page, client, auth, session, count_queries, make_plan, make_unit, make_task):
    auth.login_as(UserRole.office)
    counts = []
    for areas, tasks, slug in ((3, 3, "small"), (40, 120, "large")):
        world, evaluation = build(session, make_plan, make_unit, make_task, areas, tasks, slug)
        if page == "published_detail":
            publish.publish_evaluation(session, evaluation, actor=COMMAND_LINE, now=NOW)
        first_area = next(iter(world.areas.values())).id
        path = {"index": "/evaluations", "detail": f"/evaluations/{evaluation.id}",
                "published_detail": f"/evaluations/{evaluation.id}",
                "area": f"/evaluations/{evaluation.id}/areas/{first_area}",
                "chart": f"/evaluations/{evaluation.id}/areas/{first_area}/chart.svg",
                "energy": f"/evaluations/energy/{slug}/2023", "measures": f"/evaluations/measures/{slug}/2023",
                "rules": "/evaluations/rules", "indicators": f"/evaluations/indicators/{slug}"}[page]
        with count_queries() as counted:
            assert client.get(path).status_code == 200
        counts.append(counted.count)
    assert counts[0] == counts[1], f"{page}: {counts}"
    assert counts[0] <= 14
