"""Digests through a real SMTP server on loopback, and every way the server can fail."""
from __future__ import annotations

import time as clock
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from tracker.reminders import services
from tracker.reminders.mailer import MailboxMailer, SmtpMailer
from tracker.reminders.models import MailQueueState, MessageStatus, OutboxMessage
from tracker.reminders.outbox import send_outbox
from tracker.reporting.models import RoundAssignment
from tracker.reporting.services import reports
from tracker.time import CalendarOverride
from tests.reminders.conftest import BASE_URL, SENDER, beijing
from tests.conftest import NOW


def run(session, mailer, now):
    return services.run_once(session, now=now, mailer=mailer, base_url=BASE_URL, sender=SENDER)


def addressed_to(server, unit) -> list:
    return [m for m in server.handler.parsed() if f"u{unit.id}@units.test" in m["To"]]


def submit(session, world, unit, make_user, now):
    from tracker.accounts.models import UserRole
    user = make_user(UserRole.unit, unit=unit)
    for assignment in session.exec(select(RoundAssignment).where(RoundAssignment.unit_id == unit.id)).all():
        view = reports.get_assignment(session, assignment.id, actor=user)
        reports.save_report(session, view, progress_text="已完成", values={}, submit=True, actor=user, now=now)


def test_three_working_days_before_the_due_date_every_owing_unit_gets_one_digest(session, reminder_world, smtp_server):
    result = run(session, smtp_server.mailer(), beijing(2025, 11, 11, 9))  # Tuesday, 3 working days before Friday
    assert result.queued == 3 and result.sending.sent == 3
    lead_mail = addressed_to(smtp_server, reminder_world.lead)
    assert len(lead_mail) == 1
    message = lead_mail[0]
    assert message["Subject"].startswith("【督办提醒】市甲局")
    assert "市政府办公室督查科" in message["From"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "甲工程" in text and "乙工程" in text and "距截止还有 3 个工作日" in text
    assert f"{BASE_URL}/assignments/" in text and "去填报" in html
    assert "市乙局" not in text  # no other unit's business in a digest about one's own reports


def test_a_second_pass_the_same_day_sends_nothing_more(session, reminder_world, smtp_server):
    run(session, smtp_server.mailer(), beijing(2025, 11, 11, 9))
    again = run(session, smtp_server.mailer(), beijing(2025, 11, 11, 15))
    assert again.queued == 0 and again.sending.sent == 0
    assert len(smtp_server.handler.messages) == 3


def test_units_that_have_submitted_get_nothing(session, reminder_world, smtp_server, make_user):
    submit(session, reminder_world, reminder_world.second, make_user, beijing(2025, 11, 10))
    run(session, smtp_server.mailer(), beijing(2025, 11, 11, 9))
    assert addressed_to(smtp_server, reminder_world.second) == []
    assert len(addressed_to(smtp_server, reminder_world.first)) == 1


def test_a_late_unit_is_chased_and_the_lead_then_the_office_are_copied(session, reminder_world, smtp_server, make_user):
    submit(session, reminder_world, reminder_world.lead, make_user, beijing(2025, 11, 13))
    run(session, smtp_server.mailer(), beijing(2025, 11, 17, 9))  # Monday: 1 working day late
    first = addressed_to(smtp_server, reminder_world.first)[-1]
    assert first["Subject"].startswith("【催办】市乙局：2 项报送已逾期")
    assert "已逾期 1 个工作日" in first.get_body(("plain",)).get_content()
    assert addressed_to(smtp_server, reminder_world.lead) == []
    run(session, smtp_server.mailer(), beijing(2025, 11, 19, 9))  # 3 working days late: the lead is copied
    copy = addressed_to(smtp_server, reminder_world.lead)[-1]
    assert copy["Subject"].startswith("【逾期抄送】市甲局：2 个单位逾期未报")
    assert "市乙局：" in copy.get_body(("plain",)).get_content()
    assert addressed_to(smtp_server, reminder_world.office) == []
    run(session, smtp_server.mailer(), beijing(2025, 11, 21, 9))  # 5 working days late: office and coordinators
    assert addressed_to(smtp_server, reminder_world.office)[-1]["Subject"].startswith("【逾期抄送】市政府办公室")
    assert addressed_to(smtp_server, reminder_world.coordinator)
    dates = [(m.unit_id, m.business_date) for m in session.exec(select(OutboxMessage)).all()]
    assert len(dates) == len(set(dates))  # one message per unit per working day, ever


def test_a_reminder_missed_while_the_scheduler_was_down_goes_out_late_not_never(session, reminder_world, smtp_server):
    run(session, smtp_server.mailer(), beijing(2025, 11, 12, 9))  # the Tuesday milestone was missed entirely
    assert len(addressed_to(smtp_server, reminder_world.first)) == 1


def test_nothing_is_sent_outside_the_window_or_on_a_holiday(session, reminder_world, smtp_server):
    assert run(session, smtp_server.mailer(), beijing(2025, 11, 11, 7)).queued == 0
    assert run(session, smtp_server.mailer(), beijing(2025, 11, 11, 18)).queued == 0
    assert run(session, smtp_server.mailer(), beijing(2025, 11, 15, 10)).queued == 0  # a Saturday


def test_smtp_down_for_hours_then_back_delivers_every_message_once(session, reminder_world, smtp_server):
    smtp_server.stop()
    down = run(session, smtp_server.mailer(timeout=1), beijing(2025, 11, 11, 9))
    assert down.queued == 3 and down.sending.sent == 0 and down.sending.retried == 3
    moment = beijing(2025, 11, 11, 9)
    for minutes in (1, 2, 4, 9, 19, 50, 170):  # the backoff: 30 s, 1, 2, 5, 10, 30 min, then 2 h
        moment = beijing(2025, 11, 11, 9) + timedelta(minutes=minutes)
        run(session, smtp_server.mailer(timeout=1), moment)
    rows = session.exec(select(OutboxMessage)).all()
    assert all(r.status is MessageStatus.pending and r.attempts >= 5 for r in rows)
    assert "无法连接邮件服务器" in rows[0].last_error
    smtp_server.start()
    back = run(session, smtp_server.mailer(), moment + timedelta(hours=2, minutes=30))  # past the jittered 2 h
    assert back.sending.sent == 3
    assert len(smtp_server.handler.messages) == 3
    assert run(session, smtp_server.mailer(), moment + timedelta(hours=5)).sending.sent == 0


def test_a_451_is_retried_and_then_delivered(session, reminder_world, smtp_server):
    smtp_server.handler.data_answers.extend(["451 4.3.0 try again later"] * 3)
    first = run(session, smtp_server.mailer(), beijing(2025, 11, 11, 9))
    assert first.sending.retried == 3 and smtp_server.handler.messages == []
    row = session.exec(select(OutboxMessage)).first()
    assert row.last_error.startswith("451") and row.next_attempt_dt > beijing(2025, 11, 11, 9)
    later = run(session, smtp_server.mailer(), beijing(2025, 11, 11, 9, 5))
    assert later.sending.sent == 3 and len(smtp_server.handler.messages) == 3


def test_a_550_for_one_of_five_recipients_fails_only_that_recipient(session, reminder_world, smtp_server):
    from tracker.agencies.models import Contact
    for n in range(4):
        session.add(Contact(unit_id=reminder_world.first.id, name=f"联络员{n}", email=f"extra{n}@units.test",
                            updated_dt=NOW))
    session.commit()
    smtp_server.handler.refuse["extra2@units.test"] = "550 5.1.1 mailbox unavailable"
    run(session, smtp_server.mailer(), beijing(2025, 11, 11, 9))
    row = session.exec(select(OutboxMessage).where(OutboxMessage.unit_id == reminder_world.first.id)).one()
    assert row.status is MessageStatus.sent and len(row.recipients) == 5
    assert row.recipient_results["extra2@units.test"].startswith("550")
    assert sum(a.startswith("250") for a in row.recipient_results.values()) == 4
    delivered = [m for m in smtp_server.handler.messages if "extra0@units.test" in m[1]]
    assert "extra2@units.test" not in delivered[0][1]


def test_a_server_that_never_answers_times_out_and_the_tick_moves_on(session, reminder_world, black_hole):
    started = clock.monotonic()
    result = run(session, SmtpMailer(black_hole, timeout=0.5), beijing(2025, 11, 11, 9))
    assert result.sending.retried == 3 and result.sending.sent == 0
    assert clock.monotonic() - started < 5
    assert "超时" in session.exec(select(OutboxMessage)).first().last_error


def test_a_message_failing_for_three_working_days_becomes_a_dead_letter_the_office_can_resend(
        session, reminder_world, smtp_server):
    smtp_server.stop()
    for day in (11, 12, 13, 14):
        run(session, smtp_server.mailer(timeout=1), beijing(2025, 11, day, 16))
    row = session.exec(select(OutboxMessage).where(OutboxMessage.business_date == beijing(2025, 11, 11).date())).first()
    assert row.status is MessageStatus.dead
    from tracker.accounts.services import COMMAND_LINE
    services.resend_message(session, row, actor=COMMAND_LINE, now=beijing(2025, 11, 14, 16))
    smtp_server.start()
    send_outbox(session, mailer=smtp_server.mailer(), now=beijing(2025, 11, 14, 16, 1), worker="t", sender=SENDER)
    assert session.get(OutboxMessage, row.id).status is MessageStatus.sent


def test_an_authentication_failure_pauses_the_queue_until_the_office_resumes_it(session, reminder_world, monkeypatch):
    from tracker.reminders import mailer as mailer_module

    class Refusing(MailboxMailer):
        def send(self, message, *, sender, recipients):
            raise mailer_module.AuthenticationFailure("535 5.7.8 authentication failed")

    result = run(session, Refusing(Path("/nonexistent")), beijing(2025, 11, 11, 9))
    assert result.sending.is_paused and result.sending.sent == 0
    assert session.exec(select(MailQueueState)).one().is_paused
    assert all(r.status is MessageStatus.pending and r.attempts == 0 for r in session.exec(select(OutboxMessage)))


def test_a_day_declared_a_holiday_after_planning_cancels_its_reminders(session, reminder_world, smtp_server):
    from tracker.reminders import planner
    planner.plan_reminders(session, now=beijing(2025, 11, 11, 9), base_url=BASE_URL, sender=SENDER)
    session.add(CalendarOverride(day=beijing(2025, 11, 11).date(), is_working_day=False, note="临时放假", updated_dt=NOW))
    session.commit()
    result = send_outbox(session, mailer=smtp_server.mailer(), now=beijing(2025, 11, 12, 9), worker="t", sender=SENDER)
    assert result.cancelled == 3 and smtp_server.handler.messages == []


def test_a_unit_that_reports_before_its_reminder_goes_out_is_not_reminded(session, reminder_world, smtp_server, make_user):
    from tracker.reminders import planner
    planner.plan_reminders(session, now=beijing(2025, 11, 11, 9), base_url=BASE_URL, sender=SENDER)
    submit(session, reminder_world, reminder_world.second, make_user, beijing(2025, 11, 11, 9, 1))
    send_outbox(session, mailer=smtp_server.mailer(), now=beijing(2025, 11, 11, 9, 2), worker="t", sender=SENDER)
    assert addressed_to(smtp_server, reminder_world.second) == []


def test_a_unit_without_contacts_is_shown_to_the_office_as_failed(session, reminder_world, smtp_server):
    from tracker.agencies.models import Contact
    for contact in session.exec(select(Contact).where(Contact.unit_id == reminder_world.second.id)):
        session.delete(contact)
    session.commit()
    run(session, smtp_server.mailer(), beijing(2025, 11, 11, 9))
    row = session.exec(select(OutboxMessage).where(OutboxMessage.unit_id == reminder_world.second.id)).one()
    assert row.status is MessageStatus.failed and "联系人" in row.last_error


def test_without_a_mail_server_messages_land_in_the_mailbox_folder(session, reminder_world, tmp_path):
    result = run(session, MailboxMailer(tmp_path / "mailbox"), beijing(2025, 11, 11, 9))
    files = sorted((tmp_path / "mailbox" / "2025-11-11").glob("*.eml"))
    assert result.sending.sent == 3 and len(files) == 3
    assert all(r.transport == "mailbox" for r in session.exec(select(OutboxMessage)))


def test_a_claim_takes_exactly_its_batch_and_a_second_claim_the_next_rows(session, reminder_world):
    from tracker.reminders.outbox import claim
    for n in range(10):
        session.add(OutboxMessage(idempotency_key=f"batch:{n}", kind="test", unit_id=reminder_world.first.id,
                                  business_date=beijing(2025, 11, 11).date(), subject="s", body_text="t",
                                  body_html="<p>t</p>", recipients=["a@units.test"], pending_recipients=["a@units.test"],
                                  message_id=f"<b{n}@t>", created_dt=NOW, next_attempt_dt=NOW))
    session.commit()
    first = claim(session, worker="one", now=beijing(2025, 11, 11, 9), batch=3)
    second = claim(session, worker="two", now=beijing(2025, 11, 11, 9), batch=3)
    assert len(first) == 3 and len(second) == 3 and not set(first) & set(second)
    statuses = [m.status for m in session.exec(select(OutboxMessage).where(OutboxMessage.kind == "test"))]
    assert statuses.count(MessageStatus.sending) == 6
