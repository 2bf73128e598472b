"""The office's reminder pages: the mail queue, the policy, the working-day calendar."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import time
from tracker.accounts.permissions import can_edit_settings, require
from tracker.db import get_session
from tracker.errors import Conflict, Invalid
from tracker.reminders import services
from tracker.reminders.forms import ConfirmForm, OverrideForm, PolicyForm
from tracker.reminders.models import MessageStatus
from tracker.reminders.outbox import queue_state
from tracker.reminders.policy import get_policy, update_policy, window_label
from tracker.time import WorkingCalendar
from tracker.web import Page, page_number, populate_errors

bp = Blueprint("reminders", __name__)


@bp.get("/mail")
def mail_list():
    status_value = request.args.get("status", "")
    status = MessageStatus(status_value) if status_value in MessageStatus._value2member_map_ else None
    size, number = current_app.config["PAGE_SIZE"], page_number()
    session = get_session()
    rows, total, counts = services.list_messages(session, status=status, page=number, size=size, actor=current_user)
    year = time.local_date(time.now()).year
    return render_template("reminders/mail_list.html", page=Page(rows, number, size, total), counts=counts,
                           status=status, statuses=list(MessageStatus), state=queue_state(session),
                           policy=get_policy(session), window=window_label(get_policy(session)),
                           smtp_configured=bool(current_app.config.get("SMTP_URL")),
                           unpublished_year=None if WorkingCalendar.is_year_published(year + 1) else year + 1,
                           form=ConfirmForm())


@bp.get("/mail/<int:message_id>")
def mail_detail(message_id: int):
    row = services.get_message(get_session(), message_id, actor=current_user)
    return render_template("reminders/mail_detail.html", row=row, form=ConfirmForm())


@bp.get("/mail/<int:message_id>/html")
def mail_html(message_id: int):
    """The HTML part, shown in a sandboxed frame: its inline styles are the email's, never script."""
    row = services.get_message(get_session(), message_id, actor=current_user)
    response = make_response(row.body_html)
    response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; "
                                                   "frame-ancestors 'self'; sandbox")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/mail/<int:message_id>/resend")
def mail_resend(message_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            services.resend_message(session, services.get_message(session, message_id, actor=current_user),
                                    actor=current_user, now=time.now())
            flash("已重新排队，将在发送时段内发出。", "success")
        except Conflict as exc:
            flash(exc.message, "error")
    return redirect(url_for("reminders.mail_detail", message_id=message_id))


@bp.post("/mail/resume")
def mail_resume():
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.resume_queue(get_session(), actor=current_user, now=time.now())
            flash("已恢复邮件发送。", "success")
        except Conflict as exc:
            flash(exc.message, "error")
    return redirect(url_for("reminders.mail_list"))


@bp.route("/reminders/policy", methods=["GET", "POST"])
def policy():
    require(can_edit_settings(current_user))
    session = get_session()
    form = PolicyForm(obj=get_policy(session))
    if form.validate_on_submit():
        try:
            update_policy(session, fields={name: getattr(form, name).data for name in (
                "is_enabled", "remind_before_working_days", "remind_on_due_date", "chase_every_working_days",
                "copy_lead_after_working_days", "copy_office_after_working_days", "send_window_start",
                "send_window_end", "dead_after_working_days")}, actor=current_user, now=time.now())
        except Invalid as exc:
            populate_errors(form, exc)
            return render_template("reminders/policy.html", form=form), 422
        flash("提醒规则已保存。", "success")
        return redirect(url_for("reminders.policy"))
    return render_template("reminders/policy.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/calendar", methods=["GET", "POST"])
def calendar():
    require(can_edit_settings(current_user))
    session = get_session()
    form = OverrideForm()
    if form.validate_on_submit():
        try:
            services.set_override(session, day=form.day.data, is_working_day=form.kind.data == "work",
                                  note=form.note.data, actor=current_user, now=time.now())
        except Invalid as exc:
            populate_errors(form, exc)
        else:
            flash("工作日日历已更新；已排队但不再需要的提醒会在发送前取消。", "success")
            return redirect(url_for("reminders.calendar", year=form.day.data.year))
    asked = request.args.get("year", "")
    year = (int(asked) if asked.isascii() and asked.isdigit() and len(asked) == 4 and 2000 <= int(asked) <= 2100
            else time.local_date(time.now()).year)
    status = 422 if form.is_submitted() and form.errors else 200
    return render_template("reminders/calendar.html", form=form, calendar=services.year_calendar(session, year),
                           remove_form=ConfirmForm()), status


@bp.post("/calendar/<day>/remove")
def calendar_remove(day: str):
    form = ConfirmForm()
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        return redirect(url_for("reminders.calendar"))
    if form.validate_on_submit():
        services.remove_override(get_session(), day=parsed, actor=current_user, now=time.now())
        flash("已恢复公布的安排。", "success")
    return redirect(url_for("reminders.calendar", year=parsed.year))
