"""The inputs: the browser grid's validation, and energy and measures imports, all or nothing."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlmodel import func, select

from tracker.accounts.models import UserRole
from tracker.audit.models import AuditEvent
from tracker.errors import InvalidFile, PermissionDenied
from tracker.evaluations.services import data_entry, data_import
from tracker.reporting.models import AreaEnergyData, MeasuresScore
from tests.conftest import NOW
from tests.evaluations.conftest import HAND_WORKED, add_areas


@pytest.fixture
def world(session, make_plan, make_unit):
    return add_areas(session, make_plan, make_unit, HAND_WORKED, slug="hw",
                     aliases={"甲区人民政府": "甲区", "丙县全称": "丙县"})


@pytest.fixture
def coordinator(make_user):
    return make_user(UserRole.coordinator)


def stored(session, plan):
    return {(row.unit_id, row.year): row for row in session.exec(select(AreaEnergyData).where(
        AreaEnergyData.plan_id == plan.id))}


def cells(energy="", gdp="", renewable="", feedstock="", expected=""):
    return {"energy_tce": energy, "gdp_10k_yuan": gdp, "renewable_tce": renewable, "feedstock_tce": feedstock,
            "expected_total_tce": expected}


# --- the grid ----------------------------------------------------------------------------------------

def test_the_grid_stores_typed_figures_with_full_width_digits_and_thousands_commas(session, world, coordinator):
    changed = data_entry.save_energy_data(session, world.plan, year=2023, actor=coordinator, now=NOW, rows={
        world["甲区"].id: cells("１,２００.5", "3,000", "10", "0"), world["乙区"].id: cells()})
    row = stored(session, world.plan)[(world["甲区"].id, 2023)]
    assert changed == 1 and row.energy_tce == Decimal("1200.5") and row.gdp_10k_yuan == Decimal("3000")
    assert row.expected_total_tce is None and row.updated_by_id == coordinator.id and row.source == "browser"


def test_every_wrong_cell_of_the_grid_gets_its_own_chinese_message_and_nothing_is_written(session, world, coordinator):
    a, b, c, d = (world[name].id for name in ("甲区", "乙区", "丙县", "丁旗"))
    with pytest.raises(data_entry.CellErrors) as raised:
        data_entry.save_energy_data(session, world.plan, year=2023, actor=coordinator, now=NOW, rows={
            a: cells("-5", "1000", "0", "0"),          # negative
            b: cells("100", "0", "0", "0"),            # GDP must be above 0
            c: cells("100", "1000", "60", "40"),       # 60 + 40 is not below 100
            d: cells("100", "abc", "", "0"),           # not a number, and a blank that must be filled
        })
    assert raised.value.errors == {
        f"energy_tce-{a}": "能源消费总量不能为负数",
        f"gdp_10k_yuan-{b}": "地区生产总值应大于 0",
        f"feedstock_tce-{c}": "新增可再生能源电力消费量与原料用能之和（100）应小于能源消费总量（100）",
        f"gdp_10k_yuan-{d}": "地区生产总值应为数字（不带单位），如 1234.5；最多 15 位整数、10 位小数",
        f"renewable_tce-{d}": "请填写新增可再生能源电力消费量（没有请填 0）",
    }
    assert stored(session, world.plan) == {}


def test_a_row_cleared_in_the_grid_removes_that_areas_figures_for_the_year(session, world, coordinator):
    world.energy("甲区", 2023, 1000, 1000)
    data_entry.save_energy_data(session, world.plan, year=2023, rows={world["甲区"].id: cells()}, actor=coordinator,
                                now=NOW)
    assert stored(session, world.plan) == {}


def test_a_unit_user_and_a_leader_cannot_enter_energy_data(session, world, make_user):
    for role in (UserRole.unit, UserRole.leader):
        with pytest.raises(PermissionDenied):
            data_entry.save_energy_data(session, world.plan, year=2023, actor=make_user(role), now=NOW,
                                        rows={world["甲区"].id: cells("1", "1", "0", "0")})


# --- energy files ------------------------------------------------------------------------------------

GOOD_CSV = ("地区,年份,能源消费总量,地区生产总值,新增可再生能源电力消费量,原料用能,预期能源消费总量\n"
            "甲区,2020,1000,1000,0,0,\n"
            "甲区人民政府,2023,990,1100,0,0,980\n"
            "丙县全称,2023,1000,1050,0,50,\n")


def test_a_good_csv_in_gb18030_with_a_chinese_header_and_aliases_is_imported(session, world, coordinator):
    summary = data_import.import_energy_data(session, world.plan, GOOD_CSV.encode("gb18030"), filename="能源.csv",
                                             actor=coordinator, now=NOW)
    assert (summary.created, summary.updated, summary.years) == (3, 0, [2020, 2023])
    rows = stored(session, world.plan)
    assert rows[(world["甲区"].id, 2023)].expected_total_tce == Decimal("980")
    assert rows[(world["丙县"].id, 2023)].feedstock_tce == Decimal("50") and rows[(world["丙县"].id, 2023)].source == "import"
    again = data_import.import_energy_data(session, world.plan, GOOD_CSV.encode("utf-8-sig"), filename="能源.csv",
                                           actor=coordinator, now=NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert session.exec(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "energy_data.imported")).one() == 2


def test_a_good_xlsx_with_the_english_header_is_imported(session, world, coordinator):
    book = Workbook()
    sheet = book.active
    sheet.append(["area", "year", "energy_tce", "gdp_10k_yuan", "renewable_tce", "feedstock_tce"])
    sheet.append(["乙区", 2020, 2000, 1000, 0, 0])
    sheet.append(["乙区", 2023, 1880.5, 1000, 12.25, 0])
    buffer = io.BytesIO()
    book.save(buffer)
    summary = data_import.import_energy_data(session, world.plan, buffer.getvalue(), filename="energy.xlsx",
                                             actor=coordinator, now=NOW)
    assert summary.created == 2
    row = stored(session, world.plan)[(world["乙区"].id, 2023)]
    assert (row.energy_tce, row.renewable_tce) == (Decimal("1880.5"), Decimal("12.25"))


def test_a_file_with_several_bad_lines_lists_every_line_and_writes_nothing(session, world, coordinator):
    world.energy("甲区", 2020, 1000, 1000)
    bad = ("area,year,energy_tce,gdp_10k_yuan,renewable_tce,feedstock_tce\n"
           "甲区,2020,5000,1000,0,0\n"            # 2: fine, would update
           "无名区,2023,1,1,0,0\n"                 # 3: unknown area
           "甲区,2019,1000,1000,0,0\n"             # 4: before the base year
           "乙区,2023,-1,1000,0,0\n"               # 5: negative
           "丙县,2023,100,1000,70,30\n"            # 6: exclusions not below the total
           "丁旗,二〇二三,100,0,0,0\n"              # 7: year not a number, GDP 0
           "甲区,2020,1000,1000,0,0\n")            # 8: the same area and year as line 2
    with pytest.raises(InvalidFile) as raised:
        data_import.import_energy_data(session, world.plan, bad.encode(), filename="bad.csv", actor=coordinator,
                                       now=NOW)
    lines = [line for line, _ in raised.value.problems]
    assert sorted(set(lines)) == [3, 4, 5, 6, 7, 8]
    text = str(raised.value)
    assert "第 3 行：地区“无名区”不在单位目录中" in text and "第 4 行：年份 2019 应在 2020–2025 年之间" in text
    assert "第 5 行：能源消费总量不能为负数" in text and "第 6 行：新增可再生能源电力消费量与原料用能之和" in text
    assert "第 7 行：年份应为四位整数" in text and "第 7 行：地区生产总值应大于 0" in text
    assert "第 8 行：与第 2 行重复" in text
    assert stored(session, world.plan)[(world["甲区"].id, 2020)].energy_tce == Decimal(1000)  # line 2 not applied
    assert len(stored(session, world.plan)) == 1


def test_an_area_outside_annex_one_and_a_missing_header_are_refused(session, world, coordinator, make_unit):
    make_unit("市某局")
    with pytest.raises(InvalidFile, match="第 2 行：“市某局”不是本计划附件1中的地区"):
        data_import.import_energy_data(session, world.plan,
                                       "area,year,energy_tce,gdp_10k_yuan,renewable_tce,feedstock_tce\n"
                                       "市某局,2023,1,1,0,0\n".encode(), filename="x.csv", actor=coordinator, now=NOW)
    with pytest.raises(InvalidFile, match="第 1 行：缺少表头"):
        data_import.import_energy_data(session, world.plan, "地区,年份,能源\n甲区,2023,1\n".encode(), filename="x.csv",
                                       actor=coordinator, now=NOW)


# --- measures ----------------------------------------------------------------------------------------

def test_measures_are_imported_with_their_notes_and_bad_scores_are_listed_by_line(session, world, coordinator):
    good = "area,year,measures_score,note\n甲区,2023,55,落实节能审查\n丙县全称,2023,40.5,\n"
    summary = data_import.import_measures(session, world.plan, good.encode(), filename="m.csv", actor=coordinator,
                                          now=NOW)
    assert summary.created == 2
    rows = {(r.unit_id, r.year): r for r in session.exec(select(MeasuresScore))}
    assert rows[(world["甲区"].id, 2023)].note == "落实节能审查"
    assert rows[(world["丙县"].id, 2023)].score == Decimal("40.5")
    bad = "地区,年份,措施得分,说明\n甲区,2023,61,超\n乙区,2020,10,基期\n丁旗,2023,,\n"
    with pytest.raises(InvalidFile) as raised:
        data_import.import_measures(session, world.plan, bad.encode(), filename="m.csv", actor=coordinator, now=NOW)
    assert [line for line, _ in raised.value.problems] == [2, 3, 4]
    assert "措施得分应在 0 到 60 之间" in str(raised.value) and "基期" in str(raised.value)
    assert rows[(world["甲区"].id, 2023)].score == Decimal(55)


def test_the_measures_grid_keeps_a_score_with_its_justification(session, world, coordinator):
    data_entry.save_measures(session, world.plan, year=2024, actor=coordinator, now=NOW,
                             rows={world["乙区"].id: {"score": "48", "note": "完成节能改造"}})
    row = session.exec(select(MeasuresScore)).one()
    assert (row.year, row.score, row.note) == (2024, Decimal(48), "完成节能改造")
    with pytest.raises(data_entry.CellErrors) as raised:
        data_entry.save_measures(session, world.plan, year=2024, actor=coordinator, now=NOW,
                                 rows={world["乙区"].id: {"score": "", "note": "只有说明"}})
    assert raised.value.errors == {f"score-{world['乙区'].id}": "请填写措施得分"}
