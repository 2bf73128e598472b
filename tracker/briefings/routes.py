"""Briefing pages (draft, live preview, publish, archive, download) and the leadership dashboard."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import time
from tracker.accounts.permissions import can_manage_briefings
from tracker.briefings import charts, document
from tracker.briefings.forms import BriefingForm
from tracker.briefings.models import BriefingStatus
from tracker.briefings.services import archive, assembly, dashboard as dashboards, drafts, publishing
from tracker.db import get_session
from tracker.errors import Conflict, Invalid
from tracker.web import Page, page_number, populate_errors

bp = Blueprint("briefings", __name__)

#: an SVG served by the app: no script, no outside resource, styles inline
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
#: the preview frame: the briefing's own HTML, its charts as data: URIs, shown only inside our pages
PREVIEW_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'self'")
DASHBOARD_CHARTS = ("sections", "late", "areas", "indicators")


def _press() -> publishing.Press:
    return publishing.Press.from_config(current_app.config, current_app.static_folder)


def _issuer() -> str:
    return current_app.config.get("BRIEFING_ISSUER") or assembly.DEFAULT_ISSUER


def _form(session, *, formdata=...) -> tuple[BriefingForm, list]:
    """The briefing form with its choices (the office's rounds and evaluations), and the rounds offered."""
    form = BriefingForm() if formdata is ... else BriefingForm(formdata=formdata)
    rounds, evaluations = drafts.briefing_choices(session, actor=current_user)
    form.offer(rounds, evaluations)
    return form, rounds


# --- list, new, edit ---------------------------------------------------------------------------------

@bp.get("/briefings")
def briefing_list():
    session = get_session()
    size, number = current_app.config["PAGE_SIZE"], page_number()
    rows, total = drafts.list_briefings(session, actor=current_user, page=number, size=size)
    return render_template("briefings/list.html", page=Page(rows, number, size, total), Status=BriefingStatus)


@bp.route("/briefings/new", methods=["GET", "POST"])
def briefing_new():
    session = get_session()
    form, rounds = _form(session)
    if not form.is_submitted():
        form.fill(drafts.new_draft(rounds[0] if rounds else None, time.local_date(time.now())))
        return render_template("briefings/new.html", form=form)
    if form.validate():
        try:
            created = drafts.create_briefing(session, form.draft(), actor=current_user, now=time.now())
        except Invalid as exc:
            populate_errors(form, exc)
        else:
            flash("通报草稿已保存。下方是排版预览；确认无误后点击“发布”，系统生成 PDF 并给出编号。", "success")
            return redirect(url_for("briefings.briefing_detail", briefing_id=created.id))
    return render_template("briefings/new.html", form=form), 422


@bp.get("/briefings/<int:briefing_id>")
def briefing_detail(briefing_id: int):
    session = get_session()
    view = drafts.get_briefing(session, briefing_id, actor=current_user)
    form = None
    if view.briefing.status in (BriefingStatus.draft, BriefingStatus.failed) and can_manage_briefings(current_user):
        form, _ = _form(session, formdata=None)
        form.fill(drafts.Draft(round_id=view.briefing.round_id, evaluation_id=view.briefing.evaluation_id,
                               title=view.briefing.title, issue_date=view.briefing.issue_date,
                               opening=view.briefing.opening, problems=view.briefing.problems,
                               next_steps=view.briefing.next_steps))
    return _render_detail(view, form)


def _render_detail(view, form, status: int = 200):
    content = view.briefing.snapshot if view.briefing.status is BriefingStatus.published else None
    images = ({name: url_for("briefings.briefing_chart", briefing_id=view.briefing.id, name=name)
               for name in document.chart_names(content)} if content else {})
    return render_template("briefings/detail.html", view=view, briefing=view.briefing, form=form, c=content,
                           charts=images, numerals=document.NUMERALS, Status=BriefingStatus), status


@bp.post("/briefings/<int:briefing_id>")
def briefing_edit(briefing_id: int):
    session = get_session()
    view = drafts.get_draft(session, briefing_id, actor=current_user)
    form, _ = _form(session)
    if form.validate():
        try:
            drafts.update_briefing(session, view.briefing, form.draft(), actor=current_user, now=time.now())
        except Invalid as exc:
            populate_errors(form, exc)
        except Conflict as exc:
            flash(exc.message, "error")
            return redirect(url_for("briefings.briefing_detail", briefing_id=briefing_id))
        else:
            flash("草稿已保存。", "success")
            return redirect(url_for("briefings.briefing_detail", briefing_id=briefing_id))
    return _render_detail(view, form, 422)


@bp.post("/briefings/<int:briefing_id>/publish")
def briefing_publish(briefing_id: int):
    """Save what is typed (when the form is posted) and queue the PDF: the worker process renders it, never
    this request."""
    session = get_session()
    view = drafts.get_draft(session, briefing_id, actor=current_user)
    form, _ = _form(session)
    has_fields = "round_id" in request.form
    if has_fields and not form.validate():
        return _render_detail(view, form, 422)
    try:
        publishing.request_publication(session, view.briefing, draft=form.draft() if has_fields else None,
                                       actor=current_user, now=time.now())
    except Invalid as exc:
        populate_errors(form, exc)
        return _render_detail(view, form, 422)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash("已提交发布，正在后台生成 PDF，完成后本页自动刷新。", "info")
    return redirect(url_for("briefings.briefing_detail", briefing_id=briefing_id))


@bp.get("/briefings/<int:briefing_id>/status")
def briefing_status(briefing_id: int):
    briefing = drafts.get_briefing(get_session(), briefing_id, actor=current_user).briefing
    response = jsonify(status=briefing.status.value, label=briefing.status.label, error=briefing.render_error,
                       number=briefing.number_label if briefing.number else None)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- preview -----------------------------------------------------------------------------------------

def _preview_response(html: str, status: int = 200) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/briefings/preview")
def briefing_preview():
    """The final HTML for what is typed in the form now (nothing saved), shown in the page's sandboxed frame."""
    session = get_session()
    form, _ = _form(session)
    form.validate()
    try:
        html = drafts.preview_html(session, form.draft(), actor=current_user, issuer=_issuer())
    except Invalid as exc:
        return _preview_response(render_template("briefings/preview_problem.html", message=exc.message), 422)
    return _preview_response(html)


@bp.get("/briefings/<int:briefing_id>/preview")
def briefing_document(briefing_id: int):
    """The briefing's final HTML as saved (as archived, once published)."""
    session = get_session()
    view = drafts.get_briefing(session, briefing_id, actor=current_user)
    return _preview_response(drafts.briefing_html(session, view.briefing, issuer=_issuer()))


@bp.get("/briefings/<int:briefing_id>/charts/<name>.svg")
def briefing_chart(briefing_id: int, name: str):
    session = get_session()
    view = drafts.get_briefing(session, briefing_id, actor=current_user)
    if name not in document.CHARTS:
        abort(404)
    svg = document.chart_svg(assembly.briefing_content(session, view.briefing, issuer=_issuer()), name)
    if svg is None:
        abort(404)
    return _svg(svg)


def _svg(svg: bytes) -> Response:
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the archive -------------------------------------------------------------------------------------

@bp.get("/briefings/<int:briefing_id>/pdf")
def briefing_pdf(briefing_id: int):
    briefing, data = archive.archived_pdf(get_session(), briefing_id, storage_dir=current_app.config["STORAGE_DIR"],
                                          actor=current_user)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{archive.ascii_download_name(briefing)}\"; "
        f"filename*=UTF-8''{quote(archive.download_name(briefing), safe='')}")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the leadership dashboard ------------------------------------------------------------------------

def _round_arg() -> int | None:
    value = request.args.get("round", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


@bp.get("/dashboard")
def dashboard():
    board = dashboards.leadership_dashboard(get_session(), actor=current_user, today=time.local_date(time.now()),
                                            round_id=_round_arg())
    return render_template("briefings/dashboard.html", board=board, today=time.local_date(time.now()))


@bp.get("/dashboard/charts/<name>.svg")
def dashboard_chart(name: str):
    if name not in DASHBOARD_CHARTS:
        abort(404)
    session = get_session()
    today = time.local_date(time.now())
    chosen, _ = dashboards.dashboard_round(session, actor=current_user, round_id=_round_arg())
    if chosen is None:
        abort(404)
    if name == "sections":
        svg = charts.section_lights_chart([s.as_chart_row() for s in dashboards.section_lights(session, chosen,
                                                                                               today=today)])
    elif name == "late":
        svg = charts.counts_chart([{"label": u["unit"], "count": u["late"] + u["missing"]}
                                   for u in dashboards.round_figures(session, chosen, today=today).late_units],
                                  title="迟报和逾期未报最多的单位（份）", name="late")
    elif name == "areas":
        evaluation = dashboards.ranking_evaluation(session, chosen.plan_id)
        svg = charts.reduction_chart(assembly.area_rows(session, evaluation) if evaluation else [])
    else:
        svg = charts.indicator_chart([{"label": i["name"], "share_pct": i["share_pct"]}
                                      for i in assembly.indicator_rows(session, chosen.plan)])
    return _svg(svg)
