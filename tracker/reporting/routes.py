"""Reporting pages: 我的待办, rounds, reports with their evidence, reviews, settings."""
from __future__ import annotations

import io
import re
from urllib.parse import quote

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from markupsafe import Markup

from tracker import time
from tracker.reporting import rows as round_rows
from tracker.accounts.permissions import can_edit_settings, can_open_round, require
from tracker.db import get_session
from tracker.errors import Conflict, Invalid
from tracker.reporting import forms, ledger
from tracker.reporting.services import progress, reports, reviews, round_pages, rounds
from tracker.tasks import services as plans
from tracker.web import Page, page_number, populate_errors, url_pattern, url_prefix

bp = Blueprint("reporting", __name__)

MB = 1024 * 1024


@bp.record_once
def _add_task_panel(state) -> None:
    """Put each open round's light and the task's history on the task page.

    tasks sits below reporting (import-linter layers), so its page asks app.extensions for panels.
    """
    state.app.extensions.setdefault("task_panels", []).append(_task_panel)


def _task_panel(session, task, *, actor, now) -> dict:
    return {"reporting": round_pages.task_panel(session, task, actor=actor, today=time.local_date(now))}


@bp.get("/todo")
def todo():
    today = time.local_date(time.now())
    links = {"report": url_prefix("reporting.report_form", assignment_id=0),
             "round": url_prefix("reporting.round_detail", round_id=0),
             "review": url_pattern("reporting.task_review", "round_id", "task_id")}
    actor = current_user._get_current_object()  # the user, not the proxy: each permission check reads it
    return render_template("reporting/todo.html", todo=progress.my_todo(get_session(), actor=actor, today=today),
                           today=today, labels=progress.STATUS_LABELS, links=links)


# --- rounds --------------------------------------------------------------------------------------

@bp.get("/rounds")
def round_list():
    session = get_session()
    size, number = current_app.config["PAGE_SIZE"], page_number()
    found, total = rounds.list_rounds(session, actor=current_user, page=number, size=size)
    today = time.local_date(time.now())
    return render_template("reporting/round_list.html", page=Page(found, number, size, total),
                           totals=progress.round_totals(session, found, today), today=today)


@bp.route("/rounds/new", methods=["GET", "POST"])
def round_open():
    require(can_open_round(current_user), "只有市政府办公室督查科可以开启调度")
    session = get_session()
    form = forms.OpenRoundForm()
    form.offer_plans([plan for plan, _ in plans.list_plans(session)])
    if not form.is_submitted():
        proposal = rounds.propose_round(time.local_date(time.now()), rounds.get_settings(session).cadence_months)
        form.label.data, form.due_date.data = proposal.label, proposal.due_date
        form.period_start.data, form.period_end.data = proposal.period_start, proposal.period_end
        form.plan.data = form.plan.choices[0].value if form.plan.choices else None
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            opened = rounds.open_round(session, plans.get_plan(session, form.plan.data), label=form.label.data,
                                       period_start=form.period_start.data, period_end=form.period_end.data,
                                       due_date=form.due_date.data, actor=current_user, now=time.now())
        except Invalid as exc:
            populate_errors(form, exc)
        except Conflict as exc:
            form.form_errors.append(exc.message)
            status = 409
        else:
            flash(f"已开启“{opened.label}”，各单位可以开始填报。", "success")
            return redirect(url_for("reporting.round_detail", round_id=opened.id))
    return render_template("reporting/round_open.html", form=form), status


@bp.get("/rounds/<int:round_id>")
def round_detail(round_id: int):
    session = get_session()
    found = rounds.get_round(session, round_id, actor=current_user)
    today = time.local_date(time.now())
    tab = "units" if request.args.get("view") == "units" else "tasks"
    size, number = current_app.config["PAGE_SIZE"], page_number()
    actor = current_user._get_current_object()  # the user, not the proxy: each permission check reads it
    overview = round_pages.round_overview(session, found, actor=actor, today=today, tab=tab, page=number, size=size)
    page = (Page(overview.units, number, size, overview.unit_total) if tab == "units"
            else Page(overview.tasks, number, size, overview.task_total))
    links = {"unit": url_prefix("tasks.unit_detail", unit_id=0)}
    if tab == "tasks":
        links.update(review=url_prefix("reporting.task_review", round_id=found.id, task_id=0),
                     report=url_prefix("reporting.report_form", assignment_id=0),
                     task=url_prefix("tasks.task_detail", task_id=0))
    table_rows = Markup("").join(round_rows.round_row(row, tab, links) for row in page.items)
    return render_template("reporting/round_detail.html", round=found, overview=overview, page=page, tab=tab,
                           today=today, keys=progress.STATUS_KEYS, labels=progress.STATUS_LABELS, rows=table_rows)


@bp.post("/rounds/<int:round_id>/close")
def round_close(round_id: int):
    session = get_session()
    found = rounds.get_round(session, round_id, actor=current_user)
    try:
        rounds.close_round(session, found, actor=current_user, now=time.now())
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(f"已关闭“{found.label}”，其中的报告不能再修改。", "success")
    return redirect(url_for("reporting.round_detail", round_id=found.id))


@bp.get("/rounds/<int:round_id>/ledger.xlsx")
def round_ledger(round_id: int):
    session = get_session()
    found = rounds.get_round(session, round_id, actor=current_user)
    buffer = io.BytesIO()
    ledger.write_ledger(session, found, actor=current_user, output=buffer, now=time.now())
    buffer.seek(0)
    response = send_file(buffer, mimetype=ledger.XLSX_TYPE, as_attachment=True,
                         download_name=f"ledger-round-{found.id}.xlsx")
    return _as_download(response, ledger.ledger_filename(found), f"ledger-round-{found.id}.xlsx")


# --- a unit's report and its evidence ------------------------------------------------------------

def _stored_report_form(view) -> forms.ReportForm:
    """The report form filled with what the unit saved last."""
    return forms.report_form_for(view.task.targets, formdata=None,
                                 progress_text=view.report.progress_text if view.report else "",
                                 **{forms.value_field_name(t_id): value for t_id, value in view.values.items()})


def _render_report(view, *, form=None, upload_form=None, status: int = 200):
    """The report page; a form that failed comes back with its errors and what was typed."""
    form = form if form is not None else _stored_report_form(view)
    upload_form = upload_form if upload_form is not None else forms.AttachmentForm(formdata=None)
    return render_template("reporting/report_form.html", view=view, form=form, upload_form=upload_form,
                           today=time.local_date(time.now()), max_size=_size_text(_max_attachment_bytes())), status


@bp.route("/assignments/<int:assignment_id>", methods=["GET", "POST"])
def report_form(assignment_id: int):
    session = get_session()
    view = reports.get_assignment(session, assignment_id, actor=current_user)
    if request.method == "GET":
        return _render_report(view)
    form = forms.report_form_for(view.task.targets)
    if not form.validate_on_submit():
        return _render_report(view, form=form, status=422)
    submit = bool(form.submit_report.data)
    try:
        reports.save_report(session, view, progress_text=form.progress_text.data or "",
                            values=form.target_values(view.task.targets), submit=submit,
                            actor=current_user, now=time.now())
    except Invalid as exc:
        populate_errors(form, exc)
        return _render_report(view, form=form, status=422)
    except Conflict as exc:
        form.form_errors.append(exc.message)
        return _render_report(view, form=form, status=409)
    flash("已报送，等待牵头单位审核。" if submit else "草稿已保存，尚未报送。", "success")
    return redirect(url_for("reporting.report_form", assignment_id=assignment_id))


def _max_attachment_bytes() -> int:
    """The per-file limit: ATTACHMENT_MAX_BYTES, else the request limit less a megabyte for the form around it."""
    configured = current_app.config.get("ATTACHMENT_MAX_BYTES")
    if configured:
        return int(configured)
    request_limit = current_app.config["MAX_CONTENT_LENGTH"]
    return (request_limit // MB - 1) * MB if request_limit >= 2 * MB else request_limit * 3 // 4


def _size_text(size: int) -> str:
    return f"{size / MB:g} MB" if size >= MB else f"{max(1, size // 1024)} KB"


@bp.post("/assignments/<int:assignment_id>/attachments")
def attachment_upload(assignment_id: int):
    session = get_session()
    view = reports.get_assignment(session, assignment_id, actor=current_user)
    upload_form = forms.AttachmentForm()
    if not upload_form.validate_on_submit():
        return _render_report(view, upload_form=upload_form, status=422)
    upload = upload_form.file.data
    limit = _max_attachment_bytes()
    try:
        attachment = reports.add_attachment(session, view, filename=upload.filename or "", data=upload.read(limit + 1),
                                            storage_dir=current_app.config["STORAGE_DIR"], max_bytes=limit,
                                            actor=current_user, now=time.now())
    except Invalid as exc:
        populate_errors(upload_form, exc)
        return _render_report(view, upload_form=upload_form, status=422)
    except Conflict as exc:
        upload_form.form_errors.append(exc.message)
        return _render_report(view, upload_form=upload_form, status=409)
    flash(f"已上传“{attachment.original_name}”。", "success")
    return redirect(url_for("reporting.report_form", assignment_id=assignment_id, _anchor="attachments"))


@bp.post("/assignments/<int:assignment_id>/attachments/<int:attachment_id>/remove")
def attachment_remove(assignment_id: int, attachment_id: int):
    session = get_session()
    view = reports.get_assignment(session, assignment_id, actor=current_user)
    try:
        reports.remove_attachment(session, view, attachment_id, storage_dir=current_app.config["STORAGE_DIR"],
                                  actor=current_user, now=time.now())
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash("已删除这份佐证材料。", "success")
    return redirect(url_for("reporting.report_form", assignment_id=assignment_id, _anchor="attachments"))


@bp.get("/attachments/<int:attachment_id>")
def attachment_download(attachment_id: int):
    attachment, path = reports.attachment_file(get_session(), attachment_id,
                                               storage_dir=current_app.config["STORAGE_DIR"], actor=current_user)
    fallback = _ascii_name(attachment.original_name, f"attachment-{attachment.id}")
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True, download_name=fallback,
                         max_age=0)
    return _as_download(response, attachment.original_name, fallback)


def _ascii_name(name: str, default_stem: str) -> str:
    """A plain ASCII file name for clients that ignore filename*: letters, digits, _ and - from the name."""
    stem, dot, extension = name.rpartition(".")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem if dot else name).strip("_")[:60] or default_stem
    extension = re.sub(r"[^A-Za-z0-9]+", "", extension if dot else "")[:10]
    return f"{stem}.{extension}" if extension else stem


def _as_download(response, name: str, fallback: str):
    """Send as a file to save, under its Chinese name (RFC 6266 filename*), never rendered or sniffed."""
    response.headers["Content-Disposition"] = (f"attachment; filename=\"{fallback}\"; "
                                               f"filename*=UTF-8''{quote(name, safe='')}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- reviews -------------------------------------------------------------------------------------

def _task_report_form(review) -> forms.TaskReportForm:
    existing = review.task_report
    if existing is None:
        return forms.TaskReportForm(formdata=None)
    return forms.TaskReportForm(
        formdata=None, progress=existing.progress.value, progress_pct=format(existing.progress_pct, "f"),
        narrative=existing.narrative, light_override=existing.light_override.value if existing.light_override else "",
        light_override_reason=existing.light_override_reason or "")


def _render_review(review, *, status: int = 200, task_form=None, report_id: int | None = None,
                   report_review=None, task_report_review=None):
    """The review page; a form that failed comes back with its errors and what was typed."""
    now = time.now()
    return render_template(
        "reporting/task_review.html", review=review, light=reviews.task_light(get_session(), review, now),
        today=time.local_date(now),
        task_form=task_form if task_form is not None else _task_report_form(review), failed_report_id=report_id,
        report_review=report_review if report_review is not None else forms.ReviewForm(formdata=None),
        task_report_review=task_report_review if task_report_review is not None else forms.ReviewForm(formdata=None)), \
        status


@bp.get("/rounds/<int:round_id>/tasks/<int:task_id>")
def task_review(round_id: int, task_id: int):
    return _render_review(reviews.get_task_review(get_session(), round_id, task_id, actor=current_user))


@bp.post("/rounds/<int:round_id>/tasks/<int:task_id>/reports/<int:report_id>/review")
def report_review(round_id: int, task_id: int, report_id: int):
    session = get_session()
    review = reviews.get_task_review(session, round_id, task_id, actor=current_user)
    form = forms.ReviewForm()
    if not form.validate_on_submit():
        return _render_review(review, status=422, report_id=report_id, report_review=form)
    try:
        reviews.review_report(session, review, report_id, accept=form.accept, reason=form.reason.data,
                              actor=current_user, now=time.now())
    except Invalid as exc:
        populate_errors(form, exc)
        return _render_review(review, status=422, report_id=report_id, report_review=form)
    except Conflict as exc:
        form.form_errors.append(exc.message)
        return _render_review(review, status=409, report_id=report_id, report_review=form)
    flash("已采纳这份报告。" if form.accept else "已退回这份报告，对方会看到退回理由。", "success")
    return redirect(url_for("reporting.task_review", round_id=round_id, task_id=task_id))


@bp.post("/rounds/<int:round_id>/tasks/<int:task_id>/consolidate")
def task_report_submit(round_id: int, task_id: int):
    session = get_session()
    review = reviews.get_task_review(session, round_id, task_id, actor=current_user)
    form = forms.TaskReportForm()
    if not form.validate_on_submit():
        return _render_review(review, status=422, task_form=form)
    try:
        reviews.submit_task_report(session, review, progress=form.progress_value, progress_pct=form.progress_pct.data,
                                   narrative=form.narrative.data, light_override=form.light_value,
                                   light_override_reason=form.light_override_reason.data,
                                   actor=current_user, now=time.now())
    except Invalid as exc:
        populate_errors(form, exc)
        return _render_review(review, status=422, task_form=form)
    except Conflict as exc:
        form.form_errors.append(exc.message)
        return _render_review(review, status=409, task_form=form)
    flash("汇总情况已报送，等待统筹单位审核。", "success")
    return redirect(url_for("reporting.task_review", round_id=round_id, task_id=task_id))


@bp.post("/rounds/<int:round_id>/tasks/<int:task_id>/task-report/review")
def task_report_review(round_id: int, task_id: int):
    session = get_session()
    review = reviews.get_task_review(session, round_id, task_id, actor=current_user)
    form = forms.ReviewForm()
    if not form.validate_on_submit():
        return _render_review(review, status=422, task_report_review=form)
    try:
        reviews.review_task_report(session, review, accept=form.accept, reason=form.reason.data,
                                   actor=current_user, now=time.now())
    except Invalid as exc:
        populate_errors(form, exc)
        return _render_review(review, status=422, task_report_review=form)
    except Conflict as exc:
        form.form_errors.append(exc.message)
        return _render_review(review, status=409, task_report_review=form)
    flash("已采纳汇总报告。" if form.accept else "已退回汇总报告，牵头单位会看到退回理由。", "success")
    return redirect(url_for("reporting.task_review", round_id=round_id, task_id=task_id))


# --- settings ------------------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
def settings():
    require(can_edit_settings(current_user), "只有市政府办公室督查科可以修改调度设置")
    session = get_session()
    current = rounds.get_settings(session)
    form = forms.SettingsForm(obj=current) if request.method == "GET" else forms.SettingsForm()
    if form.validate_on_submit():
        try:
            rounds.update_settings(session, cadence_months=form.cadence_months.data,
                                   path_tolerance_pct=form.path_tolerance_pct.data,
                                   red_after_working_days=form.red_after_working_days.data,
                                   first_named_leads=form.first_named_leads.data,
                                   actor=current_user, now=time.now())
        except Invalid as exc:
            populate_errors(form, exc)
        else:
            flash("调度设置已保存。", "success")
            return redirect(url_for("reporting.settings"))
    return render_template("reporting/settings.html", form=form, current=current), \
        422 if form.is_submitted() else 200
