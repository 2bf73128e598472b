"""Fuzz the plan import end to end: parse, resolve units, write — or refuse, writing nothing.

Each example runs in a savepoint of its own over a world holding the Hohhot units directory (and, for
re-imports, the Hohhot plan itself). Properties:
- the only errors are PlanParseError (problems naming lines, in Chinese) and Invalid (a bad slug);
- a refused import, and a dry run, leave every row count as it was;
- an import that succeeds can be repeated: the same bytes change nothing, and the same document with
  one more blank line (other bytes, same text) changes no task, unit, target or annex row.
"""
from __future__ import annotations

import pytest
from hypothesis import event, given, strategies as st
from sqlmodel import Session, select

from tests.conftest import HOHHOT, NOW, ROOT
from tests.fuzz import strategies as fz
from tests.fuzz.conftest import CHINESE_RE, check_problems, examples, row_counts
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies.models import Unit, UnitAlias, UnitGroup, UnitGroupMember
from tracker.agencies.services import merge_directory, read_directory
from tracker.audit.models import AuditEvent
from tracker.errors import Invalid
from tracker.tasks import importer
from tracker.tasks.models import (AreaTarget, Indicator, Plan, PlanImport, Section, Target, Task,
                                  TaskAssignment, TaskGroup)
from tracker.tasks.parsing import PlanParseError, read_document

DIRECTORY = read_directory(ROOT / "seed" / "hohhot-units.json")
PLAN_TABLES = (Plan, Section, Task, TaskAssignment, TaskGroup, Target, AreaTarget, Indicator, Unit, UnitAlias,
               UnitGroup, UnitGroupMember)
EVERY_TABLE = PLAN_TABLES + (PlanImport, AuditEvent)

plan_uploads = st.one_of(fz.encoded(fz.mutated_documents()), fz.encoded(fz.built_documents()),
                         st.one_of(fz.mutated_documents(), fz.built_documents()).map(str.encode), fz.plan_files)
slugs = st.one_of(st.just("fuzz-plan"), st.just("fuzz-plan"), st.just("fuzz-plan"),
                  st.from_regex(r"[a-z0-9][a-z0-9-]{0,79}", fullmatch=True), st.text(max_size=90))
filenames = st.one_of(st.just("plan.txt"), st.just("plan.txt"), fz.FILENAMES)


def write_directory(connection) -> None:
    """The Hohhot units directory, into the connection's open transaction."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        merge_directory(session, DIRECTORY, now=NOW)
        session.commit()


def write_hohhot(connection) -> None:
    """The Hohhot plan, imported as `hohhot`."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        importer.import_plan(session, HOHHOT.read_bytes(), filename="hohhot.txt", slug="hohhot", directory=None,
                             actor=COMMAND_LINE, now=NOW)


@pytest.fixture
def directory_world(db):
    """The directory, written once for all the test's examples."""
    write_directory(db.connection)
    return db


@pytest.fixture
def hohhot_world(directory_world):
    write_hohhot(directory_world.connection)
    return directory_world


def import_plan(session, data, *, filename, slug, dry_run=False, first_named_leads=True):
    return importer.import_plan(session, data, filename=filename, slug=slug, directory=None, actor=COMMAND_LINE,
                                now=NOW, dry_run=dry_run, first_named_leads=first_named_leads)


def document_lines(data: bytes, filename: str) -> int:
    """How many lines the parser can name: those of the text read from the file (a .docx has no \\n)."""
    try:
        text = read_document(data, filename)
    except PlanParseError:
        return data.count(b"\n") + 1
    return text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


def import_or_refuse(session, data, *, filename, slug, first_named_leads):
    """The import's result, or None after checking the refusal wrote nothing and says why in Chinese."""
    before = row_counts(session, EVERY_TABLE)
    try:
        dry = import_plan(session, data, filename=filename, slug=slug, dry_run=True,
                          first_named_leads=first_named_leads)
    except PlanParseError as refused:
        event("refused: PlanParseError")
        check_problems(refused.problems, lines=document_lines(data, filename))
        assert row_counts(session, EVERY_TABLE) == before
        return None
    except Invalid as refused:
        event("refused: Invalid")
        assert refused.field == "slug" and CHINESE_RE.search(refused.message)
        assert not importer.SLUG_RE.match(slug)
        assert row_counts(session, EVERY_TABLE) == before
        return None
    event("imported")
    assert dry.is_dry_run and row_counts(session, EVERY_TABLE) == before, "a dry run wrote rows"
    result = import_plan(session, data, filename=filename, slug=slug, first_named_leads=first_named_leads)
    assert (result.is_new, result.counts) == (dry.is_new, dry.counts)
    return result


def check_reimports_change_nothing(session, data, *, filename, slug, first_named_leads):
    after_first = row_counts(session, PLAN_TABLES)
    again = import_plan(session, data, filename=filename, slug=slug, first_named_leads=first_named_leads)
    assert again.is_unchanged and row_counts(session, PLAN_TABLES) == after_first
    is_docx = filename.lower().endswith(".docx") or data[:4] == b"PK\x03\x04"
    if not is_docx:
        # other bytes, the same text: a new import that must find nothing to change
        same_text = import_plan(session, data + b"\n", filename=filename, slug=slug,
                                first_named_leads=first_named_leads)
        assert not same_text.is_unchanged
        assert (same_text.added_tasks, same_text.changed_tasks, same_text.withdrawn_tasks, same_text.new_units,
                same_text.new_groups) == ([], [], [], [], [])
        assert row_counts(session, PLAN_TABLES) == after_first


@examples(25)
@given(data=plan_uploads, filename=filenames, slug=slugs, first_named_leads=st.booleans())
def test_any_upload_is_imported_repeatably_or_refused_writing_nothing(directory_world, data, filename, slug,
                                                                       first_named_leads):
    with directory_world.session() as session:
        result = import_or_refuse(session, data, filename=filename, slug=slug, first_named_leads=first_named_leads)
        if result is not None:
            check_reimports_change_nothing(session, data, filename=filename, slug=slug,
                                           first_named_leads=first_named_leads)


@examples(20)
@given(data=st.one_of(fz.mutated_documents(fz.TEXTS[:1]).map(str.encode),
                      fz.encoded(fz.mutated_documents(fz.TEXTS[:1]))))
def test_a_damaged_hohhot_plan_reimported_over_the_real_one_updates_it_or_is_refused(hohhot_world, data):
    # the option the plan was imported with: an unchanged file is not parsed again under another one
    first_named_leads = True
    with hohhot_world.session() as session:
        plan_before = session.exec(select(Plan).where(Plan.slug == "hohhot")).one()
        sha = plan_before.source_sha256
        result = import_or_refuse(session, data, filename="hohhot.txt", slug="hohhot",
                                  first_named_leads=first_named_leads)
        if result is None:
            assert session.exec(select(Plan.source_sha256).where(Plan.slug == "hohhot")).one() == sha
            return
        assert not result.is_new
        check_reimports_change_nothing(session, data, filename="hohhot.txt", slug="hohhot",
                                       first_named_leads=first_named_leads)


@examples(25)
@given(text=fz.small_plans(), first_named_leads=st.booleans())
def test_a_short_plan_with_wild_names_labels_and_figures_is_imported_repeatably_or_refused(
        directory_world, text, first_named_leads):
    data = text.encode()
    with directory_world.session() as session:
        result = import_or_refuse(session, data, filename="plan.txt", slug="fuzz-plan",
                                  first_named_leads=first_named_leads)
        if result is not None:
            check_reimports_change_nothing(session, data, filename="plan.txt", slug="fuzz-plan",
                                           first_named_leads=first_named_leads)
