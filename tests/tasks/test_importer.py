"""Importing a plan writes it whole, once; re-importing changes only what the document changed."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from tracker.agencies.models import Unit, UnitAlias, UnitGroup
from tracker.agencies.services import read_directory
from tracker.accounts.services import COMMAND_LINE
from tracker.tasks import importer
from tracker.tasks.models import (AreaTarget, Indicator, Plan, PlanImport, Role, Target, Task,
                                  TaskAssignment, TaskGroup)
from tracker.tasks.parsing import PlanParseError
from tests.conftest import GENRE, HOHHOT, NOW, ROOT

DIRECTORY = read_directory(ROOT / "seed" / "hohhot-units.json")
TABLES = (Plan, Task, TaskAssignment, TaskGroup, Target, AreaTarget, Indicator, Unit, UnitAlias, UnitGroup)


def row_counts(session) -> dict[str, int]:
    return {table.__tablename__: session.exec(select(func.count()).select_from(table)).one() for table in TABLES}


def import_hohhot(session, data: bytes | None = None, **options):
    return importer.import_plan(session, data if data is not None else HOHHOT.read_bytes(),
                                filename="hohhot.txt", slug=options.pop("slug", "hohhot"),
                                directory=options.pop("directory", DIRECTORY), actor=COMMAND_LINE, now=NOW,
                                **options)


def test_importing_the_hohhot_plan_writes_its_tasks_units_targets_and_annexes(session):
    result = import_hohhot(session)
    plan = session.exec(select(Plan).where(Plan.slug == "hohhot")).one()
    assert result.is_new and plan.start_year == 2021 and plan.end_year == 2025
    assert session.exec(select(func.count()).select_from(Task).where(Task.plan_id == plan.id)).one() == 21
    assert session.exec(select(func.count()).select_from(AreaTarget)).one() == 12
    assert session.exec(select(func.count()).select_from(Indicator)).one() == 15
    assert result.new_units == []  # every name resolves through the shipped directory


def test_importing_the_same_document_twice_leaves_every_row_count_unchanged(session):
    import_hohhot(session)
    before = row_counts(session)
    again = import_hohhot(session)
    assert again.is_unchanged
    assert row_counts(session) == before
    assert session.exec(select(func.count()).select_from(PlanImport)).one() == 1


def test_a_large_directory_is_looked_up_by_name_with_the_same_result(session, monkeypatch):
    directory_rows = lambda: [session.exec(select(func.count()).select_from(t)).one() for t in (Unit, UnitAlias, UnitGroup)]
    import_hohhot(session)
    before = directory_rows()
    monkeypatch.setattr(importer, "WHOLE_DIRECTORY_UNITS", 0)  # as if the directory held a province
    result = import_hohhot(session, slug="hohhot-again")
    assert result.new_units == [] and result.new_groups == [] and directory_rows() == before


def test_the_owners_an_import_gives_through_groups_do_not_depend_on_how_its_tasks_are_looked_up(
        session, monkeypatch):
    """An import looks its own tasks up by id, a few hundred at a time; the rows groups give are the same
    whatever the batch, and recomputing them for the whole plan (as opening a round does) changes nothing."""
    from tracker.tasks import plan_writes

    def given_by_groups(slug):
        plan_id = session.exec(select(Plan.id).where(Plan.slug == slug)).one()
        return sorted(session.exec(select(Task.key, TaskAssignment.unit_id, TaskAssignment.role,
                                          TaskAssignment.via_group_id, TaskAssignment.position)
                                   .join(Task, Task.id == TaskAssignment.task_id)
                                   .where(Task.plan_id == plan_id, TaskAssignment.via_group_id.is_not(None))).all())
    import_hohhot(session)
    monkeypatch.setattr(plan_writes, "TASKS_PER_LOOKUP", 4)
    import_hohhot(session, slug="hohhot-in-fours")
    assert given_by_groups("hohhot-in-fours") == given_by_groups("hohhot") and len(given_by_groups("hohhot")) > 100
    plan_id = session.exec(select(Plan.id).where(Plan.slug == "hohhot-in-fours")).one()
    assert plan_writes.refresh_group_assignments(session, plan_id) == 0


def test_a_carried_forward_group_gives_each_area_a_marked_assignment_on_later_tasks(session):
    import_hohhot(session)
    task = session.exec(select(Task).where(Task.key == "3.4")).one()
    area = session.exec(select(Unit).where(Unit.name == "土左旗")).one()
    assignment = session.exec(select(TaskAssignment).where(TaskAssignment.task_id == task.id,
                                                           TaskAssignment.unit_id == area.id)).one()
    assert assignment.is_carried_forward and assignment.via_group_id is not None
    assert assignment.role is Role.responsible


def test_each_relevant_department_carries_a_task_named_for_all_relevant_departments(session):
    import_hohhot(session)
    task = session.exec(select(Task).where(Task.key == "2.6")).one()
    via_group = session.exec(select(Unit.name).join(TaskAssignment, TaskAssignment.unit_id == Unit.id)
                             .where(TaskAssignment.task_id == task.id,
                                    TaskAssignment.via_group_id.is_not(None))).all()
    assert "市统计局" in via_group and "市委宣传部" in via_group
    assert "市机关事务管理局" not in via_group  # the lead is named, not counted twice
    assert "土左旗" in via_group  # and the carried-forward areas


def test_a_changed_document_updates_tasks_in_place_and_reports_each_change(session):
    import_hohhot(session)
    task_id = session.exec(select(Task.id).where(Task.key == "2.1")).one()
    text = HOHHOT.read_text()
    changed = (text.replace("创建绿色工厂 35 家", "创建绿色工厂 40 家")
               .replace("（责任单位：市科技局、发展改革委、工业和信息化局、生态环境局）",
                        "（责任单位：市科技局、发展改革委、工业和信息化局）"))
    result = import_hohhot(session, changed.encode())
    assert not result.is_new and not result.is_unchanged
    assert session.exec(select(Task.id).where(Task.key == "2.1")).one() == task_id
    assert any(line.startswith("2.1 ") for line in result.changed_tasks)
    assert any(line.startswith("3.8 ") and "责任单位" in line for line in result.changed_tasks)
    value = session.exec(select(Target.value).where(Target.task_id == task_id, Target.measure == "创建绿色工厂")).one()
    assert str(value) == "40"
    assert session.exec(select(func.count()).select_from(Task)).one() == 21


def test_a_clause_dropped_from_the_document_is_withdrawn_not_deleted(session):
    import_hohhot(session)
    text = HOHHOT.read_text()
    start = text.rindex("\n", 0, text.index("营造良好氛围")) + 1
    end = text.index("- 附件")
    result = import_hohhot(session, (text[:start] + text[end:]).encode())
    task = session.exec(select(Task).where(Task.key == "4.3")).one()
    assert not task.is_active
    assert result.withdrawn_tasks == ["4.3 营造良好氛围"]


def test_a_file_that_is_not_a_plan_is_refused_with_its_line_and_nothing_is_written(session):
    before = row_counts(session)
    with pytest.raises(PlanParseError) as refused:
        import_hohhot(session, "会议纪要\n\n今天开会讨论了节能工作。\n大家发言踊跃。\n".encode())
    assert refused.value.problems[0][0] is not None
    assert row_counts(session) == before


def test_an_annotation_naming_no_unit_refuses_the_whole_file_and_names_its_line(session):
    text = HOHHOT.read_text().replace("（牵头单位：市交通运输局；", "（牵头单位：；")
    text = text.replace("**牵头单位**：市交通运输局；", "牵头单位：；")
    before = row_counts(session)
    with pytest.raises(PlanParseError) as refused:
        import_hohhot(session, text.encode())
    assert refused.value.problems[0][0] == 30
    assert row_counts(session) == before


def test_a_dry_run_reports_what_would_change_and_writes_nothing(session):
    before = row_counts(session)
    result = import_hohhot(session, dry_run=True)
    assert result.is_dry_run and result.counts["tasks"] == 21
    assert row_counts(session) == before


def test_a_gb18030_file_imports_the_same_plan_as_its_utf8_original(session):
    import_hohhot(session, HOHHOT.read_text().encode("gb18030"), slug="hohhot-gb")
    import_hohhot(session, slug="hohhot-utf8")
    keys = {slug: session.exec(select(Task.key).join(Plan).where(Plan.slug == slug).order_by(Task.position)).all()
            for slug in ("hohhot-gb", "hohhot-utf8")}
    assert keys["hohhot-gb"] == keys["hohhot-utf8"] and len(keys["hohhot-gb"]) == 21


def test_units_the_directory_does_not_know_are_created_and_listed_not_silently_invented(session):
    result = importer.import_plan(session, (GENRE / "state-council-2019-3-bonded-zones.txt").read_bytes(),
                                  filename="bonded.txt", slug="bonded", directory=None, actor=COMMAND_LINE, now=NOW)
    assert "海关总署" in result.new_units
    created = session.exec(select(Unit).where(Unit.name == "海关总署")).one()
    assert created.is_in_directory is False
    again = importer.import_plan(session, (GENRE / "state-council-2019-3-bonded-zones.txt").read_bytes(),
                                 filename="bonded.txt", slug="bonded-copy", directory=None, actor=COMMAND_LINE, now=NOW)
    assert again.new_units == []


def test_a_group_without_known_members_is_reported_so_the_office_can_fill_it(session):
    result = importer.import_plan(session, (GENRE / "state-council-office-2018-128-zero-waste-city.txt").read_bytes(),
                                  filename="zw.txt", slug="zero-waste", directory=None, actor=COMMAND_LINE, now=NOW)
    assert result.empty_groups == ["试点城市政府"]
    assert any("试点城市政府" in line for line in result.summary_lines())


def test_a_malformed_slug_is_refused_before_anything_is_parsed(session):
    from tracker.errors import Invalid
    with pytest.raises(Invalid) as refused:
        import_hohhot(session, slug="呼和浩特")
    assert refused.value.field == "slug"


@pytest.mark.parametrize("document", sorted(GENRE.glob("*.txt")), ids=lambda p: p.stem)
def test_every_genre_document_imports_and_reimports_without_change(session, document):
    first = importer.import_plan(session, document.read_bytes(), filename=document.name, slug="genre",
                                 directory=None, actor=COMMAND_LINE, now=NOW)
    assert first.counts["tasks"] > 0
    assert session.exec(select(func.count()).select_from(TaskAssignment)
                        .where(TaskAssignment.role == Role.lead)).one() >= first.counts["tasks"] - 5
    before = row_counts(session)
    assert importer.import_plan(session, document.read_bytes(), filename=document.name, slug="genre",
                                directory=None, actor=COMMAND_LINE, now=NOW).is_unchanged
    assert row_counts(session) == before
