"""The office's reminder pages and the commands other tools rely on."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import select

from tracker.accounts.models import UserRole
from tracker.reminders import services
from tracker.reminders.mailer import MailboxMailer
from tracker.reminders.models import MessageStatus, OutboxMessage, ReminderPolicy
from tracker.time import CalendarOverride
from tests.reminders.conftest import BASE_URL, SENDER, beijing


@pytest.fixture
def mailed(session, reminder_world, tmp_path):
    services.run_once(session, now=beijing(2025, 11, 11, 9), mailer=MailboxMailer(tmp_path / "mailbox"),
                      base_url=BASE_URL, sender=SENDER)
    return reminder_world


def test_the_mail_page_lists_messages_with_their_status_and_server_answer(client, auth, mailed, session):
    auth.login_as(UserRole.office)
    page = client.get("/mail").get_data(as_text=True)
    assert "【督办提醒】市甲局" in page and "已发送（3）" in page and "已存入本地邮箱目录" not in page
    row = session.exec(select(OutboxMessage)).first()
    detail = client.get(f"/mail/{row.id}").get_data(as_text=True)
    assert "250 已存入本地邮箱目录" in detail and "甲工程" in detail
    frame = client.get(f"/mail/{row.id}/html")
    assert "sandbox" in frame.headers["Content-Security-Policy"] and "去填报" in frame.get_data(as_text=True)


def test_only_the_office_reads_the_mail_page(client, auth, mailed):
    auth.login_as(UserRole.unit)
    assert client.get("/mail").status_code == 403


def test_the_office_resends_a_dead_letter(client, auth, mailed, session):
    auth.login_as(UserRole.office)
    row = session.exec(select(OutboxMessage)).first()
    row.status = MessageStatus.dead
    session.commit()
    response = client.post(f"/mail/{row.id}/resend")
    assert response.status_code == 302
    assert session.get(OutboxMessage, row.id).status is MessageStatus.pending


def test_the_policy_form_saves_and_refuses_a_window_that_ends_before_it_starts(client, auth, session):
    auth.login_as(UserRole.office)
    fields = {"is_enabled": "y", "remind_before_working_days": "2", "remind_on_due_date": "y",
              "chase_every_working_days": "1", "copy_lead_after_working_days": "2",
              "copy_office_after_working_days": "4", "send_window_start": "09:00", "send_window_end": "17:00",
              "dead_after_working_days": "3"}
    assert client.post("/reminders/policy", data=fields).status_code == 302
    assert session.exec(select(ReminderPolicy)).one().chase_every_working_days == 1
    bad = client.post("/reminders/policy", data={**fields, "send_window_end": "08:00"})
    assert bad.status_code == 422 and "结束时间应晚于开始时间" in bad.get_data(as_text=True)


def test_the_office_declares_a_day_off_on_the_calendar_page(client, auth, session):
    auth.login_as(UserRole.office)
    response = client.post("/calendar?year=2027", data={"day": "2027-02-08", "kind": "rest", "note": "2027年春节"})
    assert response.status_code == 302
    override = session.get(CalendarOverride, date(2027, 2, 8))
    assert override is not None and not override.is_working_day
    page = client.get("/calendar?year=2027").get_data(as_text=True)
    assert "尚未收录" in page and "2027年春节" in page


def test_run_once_prints_queued_sent_and_failed(runner, mailed):
    result = runner.invoke(args=["reminders", "run-once", "--now", "2025-11-11T10:00:00+08:00"])
    assert result.exit_code == 0
    assert re.fullmatch(r"queued=\d+ sent=\d+ failed=\d+\n", result.output)


def test_calendar_show_lists_holidays_and_make_up_days_with_their_source(runner):
    output = runner.invoke(args=["calendar", "show", "2026"]).output
    assert "2026-02-16 周一 春节（公布安排）" in output and "2026-02-14 周六 调休上班（公布安排）" in output
    assert "chinesecalendar" in output


def test_calendar_show_warns_about_a_year_not_yet_published(runner):
    assert "尚未收录" in runner.invoke(args=["calendar", "show", "2031"]).output


def test_the_scheduler_ticks_plan_every_few_minutes_and_send_every_minute(app):
    from tracker.scheduler import build_scheduler
    jobs = {job.id: job for job in build_scheduler(app).get_jobs()}
    assert jobs["plan_due_reminders"].trigger.interval.total_seconds() == 300
    assert jobs["send_due_mail"].trigger.interval.total_seconds() == 60
    from tracker.scheduler import JOB_DEFAULTS
    assert JOB_DEFAULTS == {"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}


def test_the_mail_page_makes_the_same_number_of_queries_for_few_and_many_messages(client, auth, session,
                                                                                  count_queries, mailed):
    auth.login_as(UserRole.office)
    counts = []
    for extra in (0, 300):
        rows = session.exec(select(OutboxMessage)).all()
        template = rows[0]
        for n in range(extra):
            session.add(OutboxMessage(**{**template.model_dump(exclude={"id"}), "idempotency_key": f"x{n}-{extra}"}))
        session.commit()
        with count_queries() as counted:
            client.get("/mail")
        counts.append(counted.count)
    assert counts[0] == counts[1]
