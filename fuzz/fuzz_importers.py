"""Coverage-guided fuzzing of the importers with atheris (libFuzzer for Python). Not run by CI.

Two kinds of target:
- raw-plan, raw-sheet: libFuzzer's own bytes go straight into read_document + parse_plan, or
  read_rows + the contacts checks. Give it the real documents as a seed corpus (see README.md).
- parser, upload, plan-import, contacts, energy, measures: libFuzzer's bytes drive the hypothesis
  strategies of tests/fuzz (fuzz_one_input), so coverage guides structure-aware inputs, and the
  properties checked are the CI properties themselves (the DB targets use a scratch database).

Any exception other than the documented ones, or a failed property, stops the run and leaves the input
in crash-<sha1> (raw targets) or in hypothesis's example database (.hypothesis/, replayed by pytest).

    .venv/bin/pip install atheris   # once
    .venv/bin/python fuzz/fuzz_importers.py TARGET [libFuzzer options] [corpus dirs]
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = sys.argv.pop(1) if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "upload"
INSTRUMENTED = ["tracker"] + (["docx", "openpyxl", "zipfile", "csv"] if os.environ.get("FUZZ_INSTRUMENT_LIBRARIES")
                              else [])

with atheris.instrument_imports(include=INSTRUMENTED):
    from tracker.agencies import contacts
    from tracker.agencies.services import NameResolver
    from tracker.errors import InvalidFile
    from tracker.tasks import importer, plan_writes  # noqa: F401 - instrumented before the tests import it
    from tracker.evaluations.services import data_entry, data_import  # noqa: F401
    from tracker.tasks.parsing import PlanParseError, parse_plan, read_document

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from tests.fuzz import strategies as fz  # noqa: E402
from tests.fuzz.conftest import Examples, check_problems  # noqa: E402
from tests.fuzz.test_plan_parser import parse_or_refuse, read_or_refuse  # noqa: E402

FUZZ = settings(database=settings.default.database, deadline=None, suppress_health_check=list(HealthCheck))
NAMES = ["plan.txt", "plan.docx", "contacts.csv", "contacts.xlsx", "plan", "a.xls"]


# --- raw bytes --------------------------------------------------------------------------------------

def raw_plan(buffer: bytes) -> None:
    """First byte picks the file name; the rest is the upload."""
    if not buffer:
        return
    filename, data = NAMES[buffer[0] % 3], buffer[1:]
    try:
        text = read_document(data, filename)
    except PlanParseError as refused:
        check_problems(refused.problems, lines=data.count(b"\n") + 1)
        return
    parse_or_refuse(text)


class _Units:
    """A units directory without a database: 市发展改革委 (alias 发展和改革委员会), 市统计局."""

    def __init__(self):
        import types
        self.units = {"市发展改革委": types.SimpleNamespace(id=1), "发展和改革委员会": types.SimpleNamespace(id=1),
                      "市统计局": types.SimpleNamespace(id=2)}

    def unit(self, name):
        return self.units.get(name)


def raw_sheet(buffer: bytes) -> None:
    if not buffer:
        return
    filename, data = NAMES[2 + buffer[0] % 4], buffer[1:]
    try:
        rows = contacts.read_rows(data, filename)
        contacts._check_rows(rows, _Units())
    except InvalidFile as refused:
        check_problems(refused.problems)


# --- hypothesis strategies, guided by coverage ------------------------------------------------------

@FUZZ
@given(st.one_of(fz.plan_texts, fz.small_plans()), st.booleans())
def parser(text, first_named_leads):
    parse_or_refuse(text, first_named_leads=first_named_leads)


@FUZZ
@given(fz.plan_files, fz.FILENAMES)
def upload(data_bytes, filename):
    text = read_or_refuse(data_bytes, filename)
    if text is not None:
        parse_or_refuse(text)


def database() -> Examples:
    """A scratch database, migrated: SQLite in a temporary directory, or TRACKER_FUZZ_DATABASE_URL (its public
    schema is dropped first, as the test suite does)."""
    import sqlalchemy  # noqa: F401
    from tracker import migrate
    from tracker.db import make_engine

    url = os.environ.get("TRACKER_FUZZ_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/fuzz.sqlite3"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    with engine.begin() as connection:
        migrate.upgrade(url, connection=connection)
    connection = engine.connect()
    connection.begin()
    return Examples(connection)


def database_target(name: str):
    from tests.fuzz import test_plan_import as plans
    from tests.fuzz import test_sheet_importers as sheets

    db = database()
    if name == "plan-import":
        plans.write_directory(db.connection)

        @FUZZ
        @given(st.one_of(plans.plan_uploads, fz.small_plans().map(str.encode)), plans.filenames, plans.slugs,
               st.booleans())
        def run(data_bytes, filename, slug, first_named_leads):
            with db.session() as session:
                if plans.import_or_refuse(session, data_bytes, filename=filename, slug=slug,
                                          first_named_leads=first_named_leads) is not None:
                    plans.check_reimports_change_nothing(session, data_bytes, filename=filename, slug=slug,
                                                         first_named_leads=first_named_leads)
        return run
    db.plan_id = sheets.write_world(db.connection)
    test = {"contacts": sheets.test_any_contacts_file_is_imported_repeatably_or_refused_writing_nothing,
            "energy": sheets.test_any_energy_file_is_imported_repeatably_or_refused_writing_nothing,
            "measures": sheets.test_any_measures_file_is_imported_repeatably_or_refused_writing_nothing}[name]
    sheet = {"contacts": sheets.CONTACT_SHEETS, "energy": sheets.ENERGY_SHEETS, "measures": sheets.MEASURES_SHEETS}[name]
    inner = test.hypothesis.inner_test

    @FUZZ
    @given(fz.sheet_files(sheet), fz.SHEET_FILENAMES)
    def run(data_bytes, filename):
        inner(db, data_bytes, filename)
    return run


def main() -> None:
    if TARGET in ("raw-plan", "raw-sheet"):
        function = raw_plan if TARGET == "raw-plan" else raw_sheet
    elif TARGET in ("parser", "upload"):
        function = (parser if TARGET == "parser" else upload).hypothesis.fuzz_one_input
    elif TARGET in ("plan-import", "contacts", "energy", "measures"):
        function = database_target(TARGET).hypothesis.fuzz_one_input
    else:
        sys.exit(f"unknown target {TARGET!r}: raw-plan raw-sheet parser upload plan-import contacts energy measures")
    atheris.Setup(sys.argv, function)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
