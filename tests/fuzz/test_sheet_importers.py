"""Fuzz the sheet importers: contacts, energy data and measures scores, from .csv, .xlsx or junk.

The documented failures are InvalidFile (every problem with its line; a problem without a line only
when it is about the whole file, alone) and Invalid. Properties, in a savepoint per example:
- nothing else is raised, and a refused file writes nothing (row counts, audit included, unchanged);
- a file that imports can be imported again and changes nothing the second time.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import event, given, strategies as st
from sqlmodel import Session, select

from tests.conftest import NOW
from tests.fuzz import strategies as fz
from tests.fuzz.conftest import CHINESE_RE, check_problems, examples, row_counts
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies import contacts
from tracker.agencies.models import Contact, Unit, UnitAlias, UnitKind
from tracker.audit.models import AuditEvent
from tracker.errors import Invalid, InvalidFile
from tracker.evaluations.services import data_entry, data_import
from tracker.reporting.models import AreaEnergyData, MeasuresScore
from tracker.tasks.models import AreaTarget, Plan

AREAS = ["甲区", "乙区", "丙县", "丁旗", "戊县"]


# --- what each column of a sheet holds -------------------------------------------------------------

def contact_cells(word: str, clean: bool):
    column = contacts.HEADER_WORDS.get(word.strip().lower().lstrip("\ufeff"))
    if column == "unit":
        good = ["市发展改革委", "发展和改革委员会", "市生态环境局", "市统计局", " 市统计局 "]
        return st.sampled_from(good + ([] if clean else ["市不存在局", "", "市发展改革委\u3000"]))
    if column == "name":
        good = st.one_of(st.sampled_from(["张伟", "李娜", "王芳", " 赵强 "]), fz.CJK_TEXT.map(lambda t: t[:20]))
        return good if clean else st.one_of(good, st.sampled_from(["", "甲" * 81]), st.text(max_size=12))
    if column == "email":
        good = st.one_of(st.sampled_from(["zw@example.gov.cn", "ZW@Example.gov.cn", "old@example.gov.cn"]),
                         *[st.emails().filter(lambda e: len(e) <= 200)] * 3)
        return good if clean else st.one_of(good, st.sampled_from(["bad", "a@b", "", "x" * 200 + "@a.cn",
                                                                   "İ@example.gov.cn", "a b@c.cn"]))
    if column == "phone":
        good = st.one_of(st.sampled_from(["0471-6600001", "", 13800000000, 1.38e10, None]), st.integers(0, 10**20))
        return good if clean else st.one_of(good, st.sampled_from(["1" * 41, -0.0, float("nan"), float("inf")]))
    return fz.JUNK_CELLS


def meaning(word: str, words: dict[str, str]) -> str | None:
    return next(iter(data_import._columns([word], words, ())), None)


AREA_CELLS = st.sampled_from([*AREAS, "甲区人民政府", "丙县全称", " 甲区 "])
BAD_AREA_CELLS = st.sampled_from(["市某局", "无名区", "", "ＡＲＥＡ"])
YEAR_CELLS = st.one_of(st.integers(2020, 2025), st.integers(2020, 2025).map(str),
                       st.sampled_from(["2023年", "２０２３", " 2024 ", 2023.0]))
BAD_YEAR_CELLS = st.sampled_from(["二〇二三", "", 2023.5, "20230", "-2023", "2019", "2026", datetime(2023, 1, 1), True])
FIGURES = st.one_of(st.decimals(0, 10**6, places=2), st.decimals(0, 10**6, places=2).map(str), st.integers(0, 10**6),
                    st.floats(0, 1e6), st.sampled_from(["", "-1", "abc", "1,234.5", "１２", "0", "1e5", "9" * 16,
                                                       "0." + "0" * 11 + "1", "\u2212" + "5", "+5", ".5", "5.", "NaN",
                                                       float("inf"), "12 345"]))


def energy_cells(word: str, clean: bool):
    column = meaning(word, data_import.ENERGY_HEADER)
    if column == "area":
        return AREA_CELLS if clean else st.one_of(AREA_CELLS, BAD_AREA_CELLS)
    if column == "year":
        return YEAR_CELLS if clean else st.one_of(YEAR_CELLS, BAD_YEAR_CELLS)
    if column in data_entry.ENERGY_FIELDS:
        if not clean:
            return FIGURES
        # clean figures pass every check: GDP above 0, renewable + feedstock below the total
        return {"energy_tce": st.one_of(st.decimals(1000, 10**6, places=2), st.sampled_from(["1,000", "１２３４"])),
                "gdp_10k_yuan": st.one_of(st.decimals(1, 10**6, places=3), st.integers(1, 10**6)),
                "renewable_tce": st.integers(0, 400), "feedstock_tce": st.sampled_from([0, "0", 12.5, "99.99"]),
                "expected_total_tce": st.one_of(st.just(""), st.decimals(0, 10**6, places=1))}[column]
    return fz.JUNK_CELLS if not clean else st.text(max_size=8).map(fz.xml_safe)


def measures_cells(word: str, clean: bool):
    column = meaning(word, data_import.MEASURES_HEADER)
    if column == "area":
        return AREA_CELLS if clean else st.one_of(AREA_CELLS, BAD_AREA_CELLS)
    if column == "year":
        return st.integers(2021, 2025) if clean else st.one_of(YEAR_CELLS, BAD_YEAR_CELLS)
    if column == "score":
        good = st.one_of(st.decimals(0, 60, places=1), st.integers(0, 60), st.sampled_from(["60", "０", "59.5"]))
        return good if clean else st.one_of(good, st.integers(-5, 70), FIGURES)
    if column == "note":
        good = st.one_of(st.text(max_size=20).map(fz.xml_safe), st.sampled_from(["", " 说明 ", "=cmd|' /C calc'!A0"]))
        return good if clean else st.one_of(good, st.just("x" * 501))
    return fz.JUNK_CELLS


CONTACT_SHEETS = fz.sheets(fz.CONTACT_HEADERS, ["单位", "姓名", "电子邮箱", "电话"], contact_cells)
ENERGY_SHEETS = fz.sheets(fz.ENERGY_HEADERS, ["地区", "年份", "能源消费总量", "地区生产总值", "新增可再生能源电力消费量",
                                              "原料用能"], energy_cells)
MEASURES_SHEETS = fz.sheets(fz.MEASURES_HEADERS, ["地区", "年份", "措施得分", "说明"], measures_cells)


# --- the world --------------------------------------------------------------------------------------

def write_world(connection) -> int:
    """Units (one with an alias) with contacts; a 2021–2025 plan whose 附件 1 lists five areas with figures.

    Written into the connection's open transaction; returns the plan's id.
    """
    with Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as session:
        units = {name: Unit(name=name, kind=UnitKind.department, created_dt=NOW)
                 for name in ("市发展改革委", "市生态环境局", "市统计局", "市某局")}
        units.update({name: Unit(name=name, kind=UnitKind.area, created_dt=NOW) for name in AREAS})
        session.add_all(units.values())
        session.flush()
        session.add_all([UnitAlias(unit_id=units["市发展改革委"].id, alias="发展和改革委员会"),
                         UnitAlias(unit_id=units["甲区"].id, alias="甲区人民政府"),
                         UnitAlias(unit_id=units["丙县"].id, alias="丙县全称"),
                         Contact(unit_id=units["市发展改革委"].id, name="张伟", email="zw@example.gov.cn", updated_dt=NOW),
                         Contact(unit_id=units["市统计局"].id, name="旧人", email="Old@example.gov.cn", updated_dt=NOW)])
        plan = Plan(slug="fuzz-areas", title="测试计划", source_sha256="0" * 64, imported_dt=NOW, updated_dt=NOW,
                    start_year=2021, end_year=2025)
        session.add(plan)
        session.flush()
        session.add_all([AreaTarget(plan_id=plan.id, unit_id=units[name].id, position=i, line=i + 1,
                                    basic_pct=Decimal(12), incentive_pct=Decimal(13)) for i, name in enumerate(AREAS)])
        session.add(AreaEnergyData(plan_id=plan.id, unit_id=units["甲区"].id, year=2020, energy_tce=Decimal(1000),
                                   gdp_10k_yuan=Decimal(1000), renewable_tce=Decimal(0), feedstock_tce=Decimal(0),
                                   updated_dt=NOW))
        session.add(MeasuresScore(plan_id=plan.id, unit_id=units["乙区"].id, year=2023, score=Decimal(50), note="原有",
                                  updated_dt=NOW))
        session.commit()
        return plan.id


@pytest.fixture
def world(db):
    db.plan_id = write_world(db.connection)
    return db


def import_or_refuse(session, tables, run):
    """Run the import; on refusal check it is documented and wrote nothing. The result, or None."""
    before = row_counts(session, tables)
    try:
        result = run()
    except InvalidFile as refused:
        event("refused: InvalidFile")
        check_problems(refused.problems)
        assert CHINESE_RE.search(str(refused))
    except Invalid as refused:
        event("refused: Invalid")
        assert CHINESE_RE.search(refused.message)
    else:
        event("imported")
        return result
    assert row_counts(session, tables) == before, "a refused file wrote rows"  # pending ones too: autoflush
    return None


# --- properties -------------------------------------------------------------------------------------

@examples(100)
@given(fz.sheet_files(CONTACT_SHEETS), fz.SHEET_FILENAMES)
def test_any_sheet_is_read_as_numbered_rows_or_refused(data_bytes, filename):
    try:
        rows = contacts.read_rows(data_bytes, filename)
    except InvalidFile as refused:
        check_problems(refused.problems)
        return
    assert all(isinstance(line, int) and line >= 1 and all(isinstance(c, str) for c in cells) for line, cells in rows)
    assert [line for line, _ in rows] == sorted({line for line, _ in rows})


@examples(80)
@given(fz.sheet_files(CONTACT_SHEETS), fz.SHEET_FILENAMES)
def test_any_contacts_file_is_imported_repeatably_or_refused_writing_nothing(world, data_bytes, filename):
    tables = (Contact, AuditEvent)

    def run():
        return contacts.import_contacts(session, data_bytes, filename=filename, actor=COMMAND_LINE, now=NOW)

    with world.session() as session:
        result = import_or_refuse(session, tables, run)
        if result is not None:
            after = row_counts(session, (Contact,))
            again = run()
            assert (again.added, again.updated, again.removed) == (0, 0, 0)
            assert again.unchanged == result.added + result.updated + result.unchanged
            assert row_counts(session, (Contact,)) == after


@examples(80)
@given(fz.sheet_files(ENERGY_SHEETS), fz.SHEET_FILENAMES)
def test_any_energy_file_is_imported_repeatably_or_refused_writing_nothing(world, data_bytes, filename):
    tables = (AreaEnergyData, AuditEvent)
    with world.session() as session:
        plan = session.get(Plan, world.plan_id)

        def run():
            return data_import.import_energy_data(session, plan, data_bytes, filename=filename, actor=COMMAND_LINE,
                                                  now=NOW)

        result = import_or_refuse(session, tables, run)
        if result is not None:
            after = session.exec(select(AreaEnergyData)).all()
            snapshot = {(r.unit_id, r.year): tuple(getattr(r, f) for f in data_entry.ENERGY_FIELDS) for r in after}
            again = run()
            assert (again.created, again.updated) == (0, 0)
            assert again.unchanged == result.created + result.updated + result.unchanged
            session.expire_all()
            assert {(r.unit_id, r.year): tuple(getattr(r, f) for f in data_entry.ENERGY_FIELDS)
                    for r in session.exec(select(AreaEnergyData))} == snapshot


@examples(60)
@given(fz.sheet_files(MEASURES_SHEETS), fz.SHEET_FILENAMES)
def test_any_measures_file_is_imported_repeatably_or_refused_writing_nothing(world, data_bytes, filename):
    tables = (MeasuresScore, AuditEvent)
    with world.session() as session:
        plan = session.get(Plan, world.plan_id)

        def run():
            return data_import.import_measures(session, plan, data_bytes, filename=filename, actor=COMMAND_LINE,
                                               now=NOW)

        result = import_or_refuse(session, tables, run)
        if result is not None:
            snapshot = {(r.unit_id, r.year): (r.score, r.note) for r in session.exec(select(MeasuresScore))}
            again = run()
            assert (again.created, again.updated) == (0, 0)
            assert again.unchanged == result.created + result.updated + result.unchanged
            session.expire_all()
            assert {(r.unit_id, r.year): (r.score, r.note) for r in session.exec(select(MeasuresScore))} == snapshot
