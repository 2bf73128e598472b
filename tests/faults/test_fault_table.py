"""Every row of RELIABILITY.md's "Fault tests a trusted system of this kind passes" has automated tests, and
every test named here exists: renaming or deleting a fault test fails CI (issue 9).

The tests are named by node id and checked by importing their module, not by running pytest, so this stays
fast. Unless said otherwise they run on both databases; those marked PostgreSQL or SQLite skip on the other.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELIABILITY = Path(__file__).parents[2].parent / "shared" / "RELIABILITY.md"
HEADING = "## Fault tests a trusted system of this kind passes"

FAULT_TESTS: dict[str, list[str]] = {
    "SMTP down for hours, then back": [
        "tests/faults/test_smtp_faults.py::test_smtp_down_for_hours_follows_the_backoff_shows_the_backlog_and_delivers_each_reminder_once",
        "tests/reminders/test_sending.py::test_smtp_down_for_hours_then_back_delivers_every_message_once",
        #: the end of the backoff: dead after three working days, shown to the office, resent by it
        "tests/reminders/test_sending.py::test_a_message_failing_for_three_working_days_becomes_a_dead_letter_the_office_can_resend",
    ],
    "SMTP answers 451, then 250; 550 for one of five recipients": [
        "tests/faults/test_smtp_faults.py::test_a_451_is_retried_and_a_550_for_one_of_five_recipients_fails_only_that_recipient",
        "tests/reminders/test_sending.py::test_a_451_is_retried_and_then_delivered",
        "tests/reminders/test_sending.py::test_a_550_for_one_of_five_recipients_fails_only_that_recipient",
    ],
    "SMTP accepts TCP and never answers": [
        #: a black hole and a server that stalls after DATA, through the scheduler's own send job
        "tests/faults/test_smtp_faults.py::test_a_server_that_never_answers_times_out_and_holds_the_send_tick_for_one_timeout_not_one_per_message",
        "tests/reminders/test_sending.py::test_a_server_that_never_answers_times_out_and_the_tick_moves_on",
    ],
    "scheduler killed mid-batch": [
        "tests/faults/test_scheduler_faults.py::test_a_scheduler_killed_mid_batch_three_times_loses_nothing_and_duplicates_at_most_one_per_kill",
        "tests/reminders/test_processes.py::test_a_sender_killed_mid_batch_loses_nothing_and_duplicates_at_most_one",
    ],
    "two schedulers at once": [
        "tests/reminders/test_processes.py::test_two_schedulers_at_once_send_every_due_message_exactly_once",
        "tests/reminders/test_processes.py::test_two_run_once_processes_started_together_ten_times_never_send_a_unit_two_messages_a_day",
        #: two claims never overlap (the SKIP LOCKED / BEGIN IMMEDIATE claim itself)
        "tests/reminders/test_sending.py::test_a_claim_takes_exactly_its_batch_and_a_second_claim_the_next_rows",
        #: PostgreSQL: two gunicorn hosts and two schedulers on one database
        "tests/deploy/test_two_hosts.py::test_two_web_hosts_and_two_schedulers_lose_no_report_and_send_no_reminder_twice",
    ],
    "scheduler down at the moment a reminder was due": [
        "tests/faults/test_scheduler_faults.py::test_a_scheduler_down_when_reminders_were_due_sends_them_late_not_never",
        "tests/reminders/test_sending.py::test_a_reminder_missed_while_the_scheduler_was_down_goes_out_late_not_never",
    ],
    "database restart mid-request": [
        #: PostgreSQL: the cluster is restarted between the file write and the commit (marker pg_restart)
        "tests/faults/test_database_restart.py::test_a_database_restart_during_an_upload_leaves_no_orphan_file_and_the_pool_recovers",
        #: both databases: the commit fails as a lost connection does; the page says so and no file stays
        "tests/reporting/test_attachments.py::test_no_file_is_kept_when_the_database_write_fails",
    ],
    "disk full during upload": [
        #: a real short write (RLIMIT_FSIZE) through the upload request
        "tests/faults/test_disk_full.py::test_a_disk_that_fills_up_during_an_upload_gives_a_clear_message_no_partial_file_and_an_untouched_database",
        "tests/reporting/test_attachments.py::test_no_file_is_left_behind_when_the_disk_write_fails_and_the_storage_message_is_shown",
    ],
    "SQLite process killed mid-write": [
        #: SQLite
        "tests/faults/test_sqlite_writer_killed.py::test_a_sqlite_writer_killed_mid_transaction_leaves_integrity_and_committed_rows",
        #: SQLite
        "tests/faults/test_sqlite_writer_killed.py::test_units_submitting_reports_killed_five_times_keep_integrity_and_every_committed_report",
    ],
    "PDF render failure (missing font, huge table, template error)": [
        #: each fault made real: fontconfig without CJK fonts, a 60-task table over the page and size limits, a
        #: broken and an undefined-name template, a disk that fills up while archiving
        "tests/faults/test_pdf_render_failure.py::test_a_failed_render_is_readable_by_the_office_serves_no_pdf_and_uses_no_number",
        "tests/faults/test_pdf_render_failure.py::test_a_render_stuck_for_minutes_leaves_web_reads_and_writes_answered_at_once",
        "tests/briefings/test_pdf.py::test_a_missing_font_family_is_a_readable_error",
        "tests/briefings/test_pdf.py::test_a_document_over_the_page_limit_is_refused",
        "tests/briefings/test_pdf.py::test_a_broken_template_is_reported_in_words_and_the_office_may_retry",
        "tests/briefings/test_pages.py::test_a_failed_render_is_shown_to_the_office_in_words",
        "tests/briefings/test_jobs.py::test_publishing_in_the_browser_only_queues_a_job",
    ],
    "calendar changed after reminders were planned": [
        "tests/faults/test_calendar_change.py::test_a_day_declared_off_after_planning_cancels_its_reminders_and_the_next_working_day_sends_them",
        "tests/faults/test_calendar_change.py::test_a_reminder_still_waiting_for_the_server_is_cancelled_when_its_day_is_declared_off",
        "tests/faults/test_calendar_change.py::test_a_make_up_saturday_declared_after_planning_gets_its_own_key_and_moves_the_ladder",
        "tests/reminders/test_sending.py::test_a_day_declared_a_holiday_after_planning_cancels_its_reminders",
    ],
}


def fault_rows(text: str) -> list[str]:
    """The first cell of each row of the fault table (header and separator left out)."""
    start = text.index(HEADING) + len(HEADING)
    following = re.search(r"^#{1,6} ", text[start:], re.M)
    section = text[start:start + following.start()] if following else text[start:]
    rows = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    return [row[0] for row in cells[2:] if row and row[0]]


@pytest.fixture(scope="module")
def table() -> list[str]:
    if not RELIABILITY.exists():
        pytest.skip(f"{RELIABILITY} is absent: the fault table lives in ../shared, beside the clone")
    rows = fault_rows(RELIABILITY.read_text(encoding="utf-8"))
    assert rows, f"no rows under “{HEADING}” in {RELIABILITY}"
    return rows


def test_every_fault_in_the_table_has_tests(table):
    missing = [fault for fault in table if not FAULT_TESTS.get(fault)]
    assert not missing, f"faults in RELIABILITY.md without a test in FAULT_TESTS: {missing}"


def test_no_mapping_names_a_fault_the_table_no_longer_has(table):
    stale = sorted(set(FAULT_TESTS) - set(table))
    assert not stale, f"FAULT_TESTS names faults RELIABILITY.md does not have (renamed?): {stale}"


@pytest.mark.parametrize("fault", FAULT_TESTS)
def test_every_mapped_fault_test_exists(fault):
    absent = []
    for node in FAULT_TESTS[fault]:
        path, _, name = node.partition("::")
        name = name.split("[")[0]
        if not (ROOT / path).is_file():
            absent.append(f"{node} (no such file)")
            continue
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        if not (name.startswith("test_") and callable(getattr(module, name, None))):
            absent.append(node)
    assert not absent, f"{fault}: mapped fault tests not found: {absent}"


def test_the_table_parser_reads_cells_with_commas_parentheses_and_code():
    text = ("## Other\n\n| a | b |\n| --- | --- |\n| x | y |\n\n" + HEADING + "\n\n| fault | what must hold |\n"
            "| --- | --- |\n| SMTP down, then back | once; `PRAGMA` ok |\n| PDF (font, table) | readable |\n\n"
            "## Next\n\n| z | w |\n")
    assert fault_rows(text) == ["SMTP down, then back", "PDF (font, table)"]
