"""Evaluation pages: area energy data, measures scores, evaluations and their explained results.

Access: every logged-in user reads published results (the list, the result page, area pages, charts and
exports); unpublished versions answer 404 to unit staff. The data grids and the measures page are open to
the office, coordinators and leaders; a unit user who opens them, or anyone who may not save them, gets 403
(the page exists, the action is refused). Rules: everyone may read them, only the office saves.
"""
from __future__ import annotations

import io
import json
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from tracker import time
from tracker.accounts.permissions import can_view_energy_data, require
from tracker.db import get_session
from tracker.errors import Conflict, Invalid, InvalidFile, NotFound
from tracker.evaluations import charts, forms
from tracker.evaluations.services import (data_entry, data_import, exports, indicators, lifecycle, publish, results,
                                          rules)
from tracker.evaluations.services.data_entry import CellErrors
from tracker.tasks import services as plans
from tracker.web import Page, page_number, populate_errors

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations")

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _default_year(plan, *, first_offset: int = 0) -> int:
    """Last year (Beijing), kept inside the plan's years."""
    base, end = data_entry.plan_years(plan)
    return min(max(time.local_date(time.now()).year - 1, base + first_offset), end)


def _default_plan_or_none():
    return plans.default_plan(get_session())


# --- evaluations ---------------------------------------------------------------------------------

def _render_index(form=None, status: int = 200):
    session = get_session()
    size, number = current_app.config["PAGE_SIZE"], page_number()
    rows, total = results.list_evaluations(session, actor=current_user, page=number, size=size)
    plan_list = [plan for plan, _ in plans.list_plans(session)]
    if form is None:
        form = forms.CreateEvaluationForm(formdata=None, kind="annual", year=time.local_date(time.now()).year - 1)
    form.offer_plans(plan_list)
    return render_template("evaluations/index.html", page=Page(rows, number, size, total), form=form,
                           plans=plan_list, default_plan=plan_list[0] if plan_list else None), status


@bp.get("")
def index():
    return _render_index()


@bp.post("/new")
def create():
    session = get_session()
    form = forms.CreateEvaluationForm()
    form.offer_plans([plan for plan, _ in plans.list_plans(session)])
    if not form.validate_on_submit():
        return _render_index(form, 422)
    try:
        evaluation = lifecycle.create_evaluation(session, plans.get_plan(session, form.plan.data),
                                                 kind=form.kind.data, year=form.year.data, actor=current_user,
                                                 now=time.now())
    except Invalid as exc:
        populate_errors(form, exc)
        return _render_index(form, 422)
    except Conflict as exc:
        form.form_errors.append(exc.message)
        return _render_index(form, 409)
    flash(f"已新建{evaluation.year}年{evaluation.kind.label}（第 {evaluation.version} 版）。", "success")
    return redirect(url_for("evaluations.detail", evaluation_id=evaluation.id))


@bp.get("/<int:evaluation_id>")
def detail(evaluation_id: int):
    session = get_session()
    evaluation = results.get_evaluation(session, evaluation_id, actor=current_user)
    report = results.evaluation_report(session, evaluation) if evaluation.status not in lifecycle.UNCOMPUTED else None
    size, number = current_app.config["PAGE_SIZE"], page_number()
    tasks = report["tasks"] if report else []
    task_page = Page(tasks[(number - 1) * size:number * size], number, size, len(tasks))
    return render_template("evaluations/detail.html", evaluation=evaluation, report=report, task_page=task_page,
                           versions=results.versions_of(session, evaluation, actor=current_user),
                           action=forms.ActionForm(formdata=None))


def _action(evaluation_id: int, operation, done: str):
    session = get_session()
    evaluation = results.get_evaluation(session, evaluation_id, actor=current_user)
    if not forms.ActionForm().validate_on_submit():
        flash("表单已过期，请重试。", "error")
        return redirect(url_for("evaluations.detail", evaluation_id=evaluation.id))
    try:
        result = operation(session, evaluation, actor=current_user, now=time.now())
    except (Conflict, Invalid) as exc:
        flash(exc.message, "error")
        return redirect(url_for("evaluations.detail", evaluation_id=evaluation.id))
    flash(done.format(version=result.version), "success")
    return redirect(url_for("evaluations.detail", evaluation_id=result.id))


@bp.post("/<int:evaluation_id>/collect")
def collect(evaluation_id: int):
    return _action(evaluation_id, lifecycle.open_collection, "第 {version} 版开始收集数据。")


@bp.post("/<int:evaluation_id>/compute")
def compute(evaluation_id: int):
    return _action(evaluation_id, lifecycle.compute_evaluation, "已计算，结果在第 {version} 版。")


@bp.post("/<int:evaluation_id>/publish")
def publish_version(evaluation_id: int):
    return _action(evaluation_id, publish.publish_evaluation, "第 {version} 版已发布，结果已固定，以后的数据修改不会改变它。")


def _computed_report(evaluation_id: int):
    session = get_session()
    evaluation = results.get_evaluation(session, evaluation_id, actor=current_user)
    if evaluation.status in lifecycle.UNCOMPUTED:
        raise NotFound("该评价尚未计算")
    return evaluation, results.evaluation_report(session, evaluation)


@bp.get("/<int:evaluation_id>/areas/<int:unit_id>")
def area(evaluation_id: int, unit_id: int):
    evaluation, report = _computed_report(evaluation_id)
    found = results.find_area(report, unit_id)
    steps = [s for s in found["explanation"] if s.get("key") not in ("inputs", "series")]
    return render_template("evaluations/area.html", evaluation=evaluation, report=report, area=found, steps=steps,
                           inputs=results.explanation_step(found, "inputs"))


def _svg_response(svg: bytes) -> Response:
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:evaluation_id>/areas/<int:unit_id>/chart.svg")
def area_chart(evaluation_id: int, unit_id: int):
    _, report = _computed_report(evaluation_id)
    found = results.find_area(report, unit_id)
    return _svg_response(charts.area_chart(found, results.explanation_step(found, "series")))


def _download(payload, mimetype: str, name: str, fallback: str) -> Response:
    response = send_file(payload, mimetype=mimetype, as_attachment=True, download_name=fallback)
    response.headers["Content-Disposition"] = (f"attachment; filename=\"{fallback}\"; "
                                               f"filename*=UTF-8''{quote(name, safe='')}")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:evaluation_id>/results.xlsx")
def export_xlsx(evaluation_id: int):
    evaluation, report = _computed_report(evaluation_id)
    buffer = io.BytesIO()
    exports.write_workbook(report, buffer)
    buffer.seek(0)
    return _download(buffer, exports.XLSX_TYPE, exports.export_filename(report), f"evaluation-{evaluation.id}.xlsx")


@bp.get("/<int:evaluation_id>/results.json")
def export_json(evaluation_id: int):
    evaluation, report = _computed_report(evaluation_id)
    payload = io.BytesIO(json.dumps(exports.export_json(report), ensure_ascii=False, indent=2).encode("utf-8"))
    return _download(payload, "application/json", exports.export_filename(report).removesuffix(".xlsx") + ".json",
                     f"evaluation-{evaluation.id}.json")


# --- area energy data and measures scores ---------------------------------------------------------

def _save_grid(plan, grid, year: int, names, save, render, *, saved: str, endpoint: str):
    """Save the posted cells (input "name-unit_id") of every area; on cell errors the grid comes back as typed."""
    if not forms.ActionForm().validate_on_submit():
        return render(grid, status=400)
    rows = {area.unit_id: {name: request.form.get(f"{name}-{area.unit_id}", "") for name in names}
            for area in grid.areas}
    typed = {f"{name}-{unit_id}": value for unit_id, values in rows.items() for name, value in values.items()}
    try:
        changed = save(get_session(), plan, year=year, rows=rows, actor=current_user, now=time.now())
    except CellErrors as exc:
        return render(grid, typed=typed, errors=exc.errors, status=422)
    flash(f"已保存 {year} 年{saved}（改动 {changed} 个地区）。", "success")
    return redirect(url_for(endpoint, slug=plan.slug, year=year))


def _year_of_import_form(plan, *, first_offset: int = 0) -> int:
    """The grid year the import form was posted from (?year=), or the default year when it is not one of the plan's."""
    base, end = data_entry.plan_years(plan)
    year = request.args.get("year", type=int) or 0
    return year if base + first_offset <= year <= end else _default_year(plan, first_offset=first_offset)


def _import_file(plan, grid, importer, render, endpoint: str):
    """Run importer on the uploaded file; a refused file re-renders the grid (year from the form) with its problems."""
    upload = forms.UploadForm()
    if not upload.validate_on_submit():
        return render(grid, upload=upload, status=422)
    try:
        summary = importer(get_session(), plan, upload.file.data.read(), filename=upload.file.data.filename,
                           actor=current_user, now=time.now())
    except InvalidFile as exc:
        return render(grid, upload=upload, problems=exc.problems, status=422)
    flash(summary.summary(), "success")
    return redirect(url_for(endpoint, slug=plan.slug, year=summary.years[-1]))


@bp.get("/energy")
def energy_default():
    plan = _default_plan_or_none()
    if plan is None or not plan.start_year:
        return render_template("tasks/no_plan.html")
    return redirect(url_for("evaluations.energy", slug=plan.slug, year=_default_year(plan)))


def _render_energy(grid, *, typed=None, errors=None, upload=None, problems=None, status: int = 200):
    return render_template("evaluations/energy.html", grid=grid, typed=typed or {}, errors=errors or {},
                           fields=data_entry.ENERGY_FIELDS, labels=data_entry.ENERGY_LABELS,
                           units=data_entry.ENERGY_UNITS,
                           form=forms.ActionForm(formdata=None), upload=upload or forms.UploadForm(formdata=None),
                           problems=problems or []), status


@bp.route("/energy/<slug>/<int:year>", methods=["GET", "POST"])
def energy(slug: str, year: int):
    require(can_view_energy_data(current_user), "只有统筹单位、督查科和领导可以查看能源数据")
    session = get_session()
    plan = plans.get_plan(session, slug)
    try:
        grid = data_entry.energy_grid(session, plan, year)
    except Invalid:
        return redirect(url_for("evaluations.energy", slug=plan.slug, year=_default_year(plan)))
    if request.method == "GET":
        return _render_energy(grid)
    return _save_grid(plan, grid, year, data_entry.ENERGY_FIELDS, data_entry.save_energy_data, _render_energy,
                      saved="能源数据", endpoint="evaluations.energy")


@bp.post("/energy/<slug>/import")
def energy_import(slug: str):
    require(can_view_energy_data(current_user), "只有统筹单位、督查科和领导可以查看能源数据")
    session = get_session()
    plan = plans.get_plan(session, slug)
    grid = data_entry.energy_grid(session, plan, _year_of_import_form(plan))
    return _import_file(plan, grid, data_import.import_energy_data, _render_energy, "evaluations.energy")


@bp.get("/measures")
def measures_default():
    plan = _default_plan_or_none()
    if plan is None or not plan.start_year:
        return render_template("tasks/no_plan.html")
    return redirect(url_for("evaluations.measures", slug=plan.slug, year=_default_year(plan, first_offset=1)))


def _render_measures(grid, *, typed=None, errors=None, upload=None, problems=None, status: int = 200):
    return render_template("evaluations/measures.html", grid=grid, typed=typed or {}, errors=errors or {},
                           form=forms.ActionForm(formdata=None), upload=upload or forms.UploadForm(formdata=None),
                           problems=problems or []), status


@bp.route("/measures/<slug>/<int:year>", methods=["GET", "POST"])
def measures(slug: str, year: int):
    require(can_view_energy_data(current_user), "只有统筹单位、督查科和领导可以查看节能措施得分")
    session = get_session()
    plan = plans.get_plan(session, slug)
    try:
        grid = data_entry.measures_grid(session, plan, year, now=time.now())
    except Invalid:
        return redirect(url_for("evaluations.measures", slug=plan.slug, year=_default_year(plan, first_offset=1)))
    if request.method == "GET":
        return _render_measures(grid)
    return _save_grid(plan, grid, year, ("score", "note"), data_entry.save_measures, _render_measures,
                      saved="节能措施得分", endpoint="evaluations.measures")


@bp.post("/measures/<slug>/import")
def measures_import(slug: str):
    require(can_view_energy_data(current_user), "只有统筹单位、督查科和领导可以查看节能措施得分")
    session = get_session()
    plan = plans.get_plan(session, slug)
    grid = data_entry.measures_grid(session, plan, _year_of_import_form(plan, first_offset=1), now=time.now())
    return _import_file(plan, grid, data_import.import_measures, _render_measures, "evaluations.measures")


# --- rules ---------------------------------------------------------------------------------------

def _render_rules(form=None, status: int = 200):
    session = get_session()
    current = rules.rules_for_display(session, now=time.now())
    if form is None:
        form = forms.RulesForm(formdata=None, obj=rules.RuleFields.from_rule_set(current))
    return render_template("evaluations/rules.html", form=form, current=current, history=rules.rule_history(session),
                           status_scores=rules.STATUS_SCORES, path_labels=rules.PATH_LABELS,
                           bands=rules.bands_of(current.bands), task_bands=rules.bands_of(current.task_bands),
                           weights=rules.weights_of(current), weight_labels=rules.WEIGHT_LABELS), status


@bp.route("/rules", methods=["GET", "POST"])
def rules_page():
    if request.method == "GET":
        return _render_rules()
    form = forms.RulesForm()
    if not form.validate_on_submit():
        return _render_rules(form, 422)
    fields = rules.RuleFields(**{name: form[name].data for name in rules.RuleFields.__dataclass_fields__})
    try:
        saved = rules.save_rules(get_session(), fields=fields, actor=current_user, now=time.now())
    except Invalid as exc:
        populate_errors(form, exc)
        return _render_rules(form, 422)
    flash(f"已保存评价规则第 {saved.version} 版；之后计算的评价按新规则，已有结果不变。", "success")
    return redirect(url_for("evaluations.rules_page"))


# --- indicators (附件 2) ---------------------------------------------------------------------------

@bp.get("/indicators")
def indicators_default():
    plan = _default_plan_or_none()
    if plan is None or not plan.start_year:
        return render_template("tasks/no_plan.html")
    return redirect(url_for("evaluations.indicator_list", slug=plan.slug))


def _render_indicators(table, *, typed=None, errors=None, status: int = 200):
    return render_template("evaluations/indicators.html", table=table, typed=typed or {}, errors=errors or {},
                           form=forms.ActionForm(formdata=None)), status


@bp.route("/indicators/<slug>", methods=["GET", "POST"])
def indicator_list(slug: str):
    session = get_session()
    plan = plans.get_plan(session, slug)
    table = indicators.indicator_table(session, plan)
    if request.method == "GET":
        return _render_indicators(table)
    if not forms.ActionForm().validate_on_submit():
        return _render_indicators(table, status=400)
    cells = {(row.indicator.id, year): request.form.get(f"value-{row.indicator.id}-{year}", "")
             for row in table.rows for year in table.years}
    try:
        changed = indicators.save_indicator_values(session, plan, values=cells, actor=current_user, now=time.now())
    except CellErrors as exc:
        typed = {f"value-{indicator_id}-{year}": text for (indicator_id, year), text in cells.items()}
        return _render_indicators(table, typed=typed, errors=exc.errors, status=422)
    flash(f"已保存指标年度数值（改动 {changed} 个）。", "success")
    return redirect(url_for("evaluations.indicator_list", slug=plan.slug))


@bp.get("/indicators/<slug>/<int:indicator_id>/chart.svg")
def indicator_chart(slug: str, indicator_id: int):
    session = get_session()
    plan = plans.get_plan(session, slug)
    found = indicators.get_indicator(session, plan, indicator_id)
    base, end = data_entry.plan_years(plan)
    indicator = found.indicator
    return _svg_response(charts.indicator_chart(
        indicator.name, indicator.unit, list(range(base, end + 1)), {y: v.value for y, v in found.values.items()},
        baseline_year=indicator.baseline_year, baseline=indicator.baseline_value, target_year=indicator.target_year,
        target=indicator.target_value))
