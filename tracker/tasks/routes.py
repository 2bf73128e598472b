"""Plan pages: overview, task list and detail, annexes, and the import with its preview."""
from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import time
from tracker.accounts.permissions import can_import_plan, require
from tracker.agencies.edits import unit_id_named
from tracker.db import get_session
from tracker.errors import Invalid, NotFound
from tracker.tasks import importer, services
from tracker.tasks.cli import configured_directory
from tracker.tasks.forms import ConfirmImportForm, ImportForm
from tracker.tasks.parsing import PlanParseError
from tracker.web import Page, page_number, populate_errors

bp = Blueprint("tasks", __name__)
#: the task list's query parameters
TASK_LIST_ARGS = ("q", "section", "lead", "unit", "lead_name", "unit_name", "page")


def _default_plan_or_none():
    return services.default_plan(get_session())


@bp.get("/")
def plan_overview_default():
    plan = _default_plan_or_none()
    if plan is None:
        return render_template("tasks/no_plan.html")
    return _render_overview(plan)


@bp.get("/plans")
def plan_list():
    return render_template("tasks/plan_list.html", plans=services.list_plans(get_session()))


@bp.get("/plans/<slug>")
def plan_overview(slug: str):
    return _render_overview(services.get_plan(get_session(), slug))


def _render_overview(plan):
    overview = services.plan_overview(get_session(), plan)
    return render_template("tasks/plan_overview.html", overview=overview, plan=plan)


@bp.get("/tasks")
def task_list_default():
    plan = _default_plan_or_none()
    if plan is None:
        return render_template("tasks/no_plan.html")
    # only the list's own filters: any other name would reach url_for as a keyword (`slug`, `_method`: a 500;
    # `_external`, `_scheme`: an absolute URL built from the request's Host header)
    filters = {name: request.args[name] for name in TASK_LIST_ARGS if name in request.args}
    return redirect(url_for("tasks.task_list", slug=plan.slug, **filters))


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


@bp.get("/plans/<slug>/tasks")
def task_list(slug: str):
    session = get_session()
    plan = services.get_plan(session, slug)
    units = services.plan_units(session, plan)
    filters = {"section_id": _int_arg("section"), "lead_unit_id": _int_arg("lead"),
               "unit_id": _int_arg("unit"), "search": request.args.get("q", "").strip()[:100]}
    names = {"lead_unit_id": request.args.get("lead_name", "").strip()[:100],
             "unit_id": request.args.get("unit_name", "").strip()[:100]}
    unknown = []
    for key, name in names.items():  # a directory too large for a list: the unit is typed by name
        if name and units is None:
            filters[key] = unit_id_named(session, name)
            if filters[key] is None:
                unknown.append(name)
                filters[key] = 0  # no unit has id 0: the list is empty, as the filter asks
    size = current_app.config["PAGE_SIZE"]
    number = page_number()
    tasks, total = services.task_page(session, plan, page=number, size=size, with_units=False, **filters)
    return render_template("tasks/task_list.html", plan=plan, page=Page(tasks, number, size, total),
                           filters=filters, names=names, unknown_names=unknown,
                           sections=services.plan_sections(session, plan), units=units,
                           owners=services.task_list_owners(session, [task.id for task in tasks]))


@bp.get("/tasks/<int:task_id>")
def task_detail(task_id: int):
    from tracker.audit.services import action_label
    from tracker.tasks.models import Role

    session = get_session()
    task, plan = _task_for_detail(session, task_id)
    named = [a for a in task.assignments if a.via_group_id is None]
    members = {g.group_id: [] for g in task.groups}
    for assignment in task.assignments:
        if assignment.via_group_id is not None:
            members.setdefault(assignment.via_group_id, []).append(assignment.unit)
    # Domains above tasks (reporting: each open round's light and links, the task's history) add their
    # part of this page through app.extensions, so tasks never imports them (import-linter layers).
    panels = {}
    actor = current_user._get_current_object()  # the user, not the proxy: each permission check reads it
    for panel in current_app.extensions.get("task_panels", ()):
        panels.update(panel(session, task, actor=actor, now=time.now()))
    return render_template("tasks/task_detail.html", task=task, plan=plan,
                           leads=[a.unit for a in named if a.role is Role.lead],
                           responsibles=[a.unit for a in named if a.role is Role.responsible],
                           members=members, action_label=action_label, **panels)


def _task_for_detail(session, task_id: int):
    """The task page's task as (task, plan): its columns, section, targets, named units and groups in four
    queries of the columns shown (the task as services.get_task loads it, without hydrating every entity).

    :raises NotFound: if there is no such task
    """
    from types import SimpleNamespace

    from tracker.tasks.models import Task

    statements = _task_detail_statements()
    params = {"task_id": task_id}
    found = session.exec(statements["task"], params=params).first()
    if found is None:
        raise NotFound("没有这项任务")
    row, plan = found, found[-1]
    section = None if row.section_label is None else SimpleNamespace(label=row.section_label,
                                                                     title=row.section_title)
    task = SimpleNamespace(
        id=row.id, plan_id=row.plan_id, key=row.key, level=row.level, label=row.label, title=row.title,
        text=row.text, line=row.line, is_active=row.is_active, section=section,
        targets=session.exec(statements["targets"], params=params).all(),
        assignments=[SimpleNamespace(unit_id=a.unit_id, role=a.role, via_group_id=a.via_group_id,
                                     unit=SimpleNamespace(id=a.unit_id, name=a.name))
                     for a in session.exec(statements["assignments"], params=params)],
        groups=[SimpleNamespace(group_id=g.group_id, role=g.role, is_carried_forward=g.is_carried_forward,
                                group=SimpleNamespace(id=g.group_id, name=g.name))
                for g in session.exec(statements["groups"], params=params)])
    task.display_number = Task.display_number.fget(task)
    return task, plan


@functools.cache
def _task_detail_statements() -> dict:
    """The task page's statements, built once (building a statement costs more than running it)."""
    import sqlalchemy as sa
    from sqlmodel import select

    from tracker.agencies.models import Unit, UnitGroup
    from tracker.tasks.models import Plan, Section, Target, Task, TaskAssignment, TaskGroup

    task_id = sa.bindparam("task_id")
    return {
        "task": (select(Task.id, Task.plan_id, Task.key, Task.level, Task.label, Task.title, Task.text, Task.line,
                        Task.is_active, Section.label.label("section_label"), Section.title.label("section_title"),
                        Plan)
                 .join(Plan, Plan.id == Task.plan_id).outerjoin(Section, Section.id == Task.section_id)
                 .where(Task.id == task_id)),
        "targets": select(Target.id, Target.task_id, Target.measure, Target.comparator, Target.value, Target.unit,
                          Target.deadline_year, Target.text).where(Target.task_id == task_id)
        .order_by(Target.position),
        "assignments": select(TaskAssignment.unit_id, TaskAssignment.role, TaskAssignment.via_group_id, Unit.name)
        .join(Unit, Unit.id == TaskAssignment.unit_id).where(TaskAssignment.task_id == task_id)
        .order_by(TaskAssignment.position),
        "groups": select(TaskGroup.group_id, TaskGroup.role, TaskGroup.is_carried_forward, UnitGroup.name)
        .join(UnitGroup, UnitGroup.id == TaskGroup.group_id).where(TaskGroup.task_id == task_id)
        .order_by(TaskGroup.position),
    }


@bp.get("/annexes")
def annexes_default():
    plan = _default_plan_or_none()
    if plan is None:
        return render_template("tasks/no_plan.html")
    return redirect(url_for("tasks.annexes", slug=plan.slug))


@bp.get("/plans/<slug>/annexes")
def annexes(slug: str):
    session = get_session()
    return render_template("tasks/annexes.html",
                           annexes=services.plan_annexes(session, services.get_plan(session, slug)))


def _pending_dir() -> Path:
    path = Path(current_app.config["STORAGE_DIR"]) / "pending-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


@bp.route("/import", methods=["GET", "POST"])
def import_upload():
    require(can_import_plan(current_user))
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("tasks/import_upload.html", form=form), 422 if form.is_submitted() else 200
    upload = form.document.data
    data = upload.read()
    filename = _shown_name(upload.filename) or "plan.txt"
    slug = form.slug.data or importer.slug_from_filename(filename)
    try:
        parsed = importer.read_plan_document(data, filename)
        result = importer.import_plan(get_session(), data, filename=filename, slug=slug,
                                      directory=configured_directory(), actor=current_user,
                                      now=time.now(), dry_run=True)
    except PlanParseError as exc:
        form.document.errors = [f"第 {line} 行：{msg}" if line else msg for line, msg in exc.problems]
        return render_template("tasks/import_upload.html", form=form), 422
    except Invalid as exc:
        populate_errors(form, exc)
        return render_template("tasks/import_upload.html", form=form), 422
    digest = hashlib.sha256(data).hexdigest()
    (_pending_dir() / f"{digest}.upload").write_bytes(data)
    confirm = ConfirmImportForm(formdata=None, upload=digest, slug=slug, filename=filename)
    return render_template("tasks/import_preview.html", parsed=parsed, result=result, confirm=confirm)


def _shown_name(filename: str | None) -> str:
    """The upload's name as the plan page shows it: no directories, no control or bidi-override characters
    (U+202E would make "报告\u202etxt.exe" read as "报告exe.txt")."""
    name = re.split(r"[\\/]", filename or "")[-1]
    return re.sub(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]", "", name).strip()


@bp.post("/import/confirm")
def import_confirm():
    require(can_import_plan(current_user))
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        flash("确认信息无效或已过期，请重新上传计划文件。", "error")
        return redirect(url_for("tasks.import_upload"))
    pending = _pending_dir() / f"{form.upload.data}.upload"
    if not pending.exists():
        flash("上传的文件已失效，请重新上传。", "error")
        return redirect(url_for("tasks.import_upload"))
    try:
        result = importer.import_plan(get_session(), pending.read_bytes(),
                                      filename=_shown_name(form.filename.data) or "plan.txt",
                                      slug=form.slug.data, directory=configured_directory(),
                                      actor=current_user, now=time.now())
    except (PlanParseError, Invalid) as exc:
        flash(f"导入失败：{exc}", "error")
        return redirect(url_for("tasks.import_upload"))
    pending.unlink(missing_ok=True)
    flash("；".join(result.summary_lines()[:3]), "success")
    return redirect(url_for("tasks.plan_overview", slug=result.slug))


@bp.get("/units/<int:unit_id>")
def unit_detail(unit_id: int):
    from tracker.agencies.contacts import list_contacts
    from tracker.agencies.services import get_unit

    session = get_session()
    unit = get_unit(session, unit_id)
    return render_template("tasks/unit_detail.html", unit=unit, tasks=services.unit_tasks(session, unit.id),
                           contacts=list_contacts(session, unit.id))
