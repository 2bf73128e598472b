"""/api/v1: plans, tasks, rounds, my assignments, submitting a report, evaluation results."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask import Blueprint, g, jsonify, request
from sqlalchemy.orm import selectinload
from sqlmodel import select

from tracker import time
from tracker.accounts import tokens
from tracker.api import schema, shapes
from tracker.db import get_session
from tracker.errors import Conflict, Invalid, NotFound, PermissionDenied, TrackerError
from tracker.extensions import csrf
from tracker.reporting.services import progress, reports, rounds
from tracker.tasks import services as tasks
from tracker.web import MAX_ID, MAX_PAGE

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
MAX_PAGE_SIZE = 200
REPORT_FIELDS = {"progress_text", "values", "submit"}
PAGING = {"page", "size"}
#: the query parameters each operation documents; any other name, or a name given twice, is refused
QUERY_PARAMETERS = {"api.task_list": PAGING | {"section", "lead_unit", "unit"}, "api.round_list": PAGING | {"plan_id"},
                    "api.evaluation_list": PAGING | {"plan_id", "year"}}
VALUE_RE = re.compile(r"^-?\d{1,12}(\.\d{1,6})?$")


class ApiError(TrackerError):
    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.field = status, code, field


@bp.errorhandler(TrackerError)
def _error(exc: TrackerError):
    status, code = {NotFound: (404, "not_found"), PermissionDenied: (403, "forbidden"),
                    Conflict: (409, "conflict"), Invalid: (422, "invalid")}.get(type(exc), (400, "bad_request"))
    if isinstance(exc, ApiError):
        status, code = exc.status, exc.code
    body = {"code": code, "message": exc.message}
    field = getattr(exc, "field", None)
    if field:
        body["field"] = field
    return jsonify(error=body), status


@bp.errorhandler(404)
def _not_found(_exc):
    return jsonify(error={"code": "not_found", "message": "没有这个接口或对象"}), 404


@bp.errorhandler(405)
def _method(_exc):
    return jsonify(error={"code": "method_not_allowed", "message": "不支持这种请求方式"}), 405


@bp.before_request
def _authenticate():
    """Only a bearer token opens the API: a browser's session cookie never does (no CSRF to forge)."""
    if request.endpoint == "api.openapi":
        return None
    allowed = QUERY_PARAMETERS.get(request.endpoint, set())
    for name in request.args:
        if name not in allowed or len(request.args.getlist(name)) > 1:
            return jsonify(error={"code": "bad_request", "field": name[:40],
                                  "message": f"不认识或重复的查询参数：{name[:40]}"}), 400
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    user = tokens.user_for_token(get_session(), secret.strip(), now=time.now()) if scheme.lower() == "bearer" else None
    if user is None:
        response = jsonify(error={"code": "unauthorized", "message": "缺少有效的接口令牌（Authorization: Bearer …）"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="tracker"'
        return response
    g.api_user = user
    return None


def _actor():
    return g.api_user


def _page_args() -> tuple[int, int]:
    page = request.args.get("page", "1")
    size = request.args.get("size", "50")
    if (not _is_number(page, 6) or not _is_number(size, 3) or not 1 <= int(page) <= MAX_PAGE
            or not 1 <= int(size) <= MAX_PAGE_SIZE):
        raise ApiError(400, "bad_request", f"page 须在 1 到 {MAX_PAGE} 之间，size 须在 1 到 {MAX_PAGE_SIZE} 之间")
    return int(page), int(size)


def _is_number(text: str, digits: int) -> bool:
    """ASCII digits only, at most `digits` of them ("²".isdigit() is true, yet int("²") raises)."""
    return text.isascii() and text.isdigit() and len(text) <= digits


def _int_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    if not _is_number(value, 10) or not 1 <= int(value) <= MAX_ID:
        raise ApiError(400, "bad_request", f"{name} 须为不超过 {MAX_ID} 的正整数", name)
    return int(value)


@bp.get("/openapi.json")
def openapi():
    return jsonify(schema.document())


@bp.get("/me")
def me():
    return jsonify(shapes.user(_actor()))


@bp.get("/plans")
def plan_list():
    return jsonify(items=[shapes.plan(plan, count) for plan, count in tasks.list_plans(get_session())])


@bp.get("/plans/<slug>")
def plan_detail(slug: str):
    session = get_session()
    plan = tasks.get_plan(session, slug)
    overview = tasks.plan_overview(session, plan)
    return jsonify(shapes.plan_detail(plan, overview))


@bp.get("/plans/<slug>/tasks")
def task_list(slug: str):
    session = get_session()
    plan = tasks.get_plan(session, slug)
    page, size = _page_args()
    found, total = tasks.task_page(session, plan, section_id=_int_arg("section"), lead_unit_id=_int_arg("lead_unit"),
                                   unit_id=_int_arg("unit"), page=page, size=size)
    return jsonify(items=[shapes.task_summary(t) for t in found], page=page, size=size, total=total)


@bp.get("/tasks/<int:task_id>")
def task_detail(task_id: int):
    return jsonify(shapes.task(tasks.get_task(get_session(), task_id)))


@bp.get("/rounds")
def round_list():
    page, size = _page_args()
    found, total = rounds.list_rounds(get_session(), actor=_actor(), plan_id=_int_arg("plan_id"), page=page, size=size)
    return jsonify(items=[shapes.reporting_round(r) for r in found], page=page, size=size, total=total)


@bp.get("/rounds/<int:round_id>")
def round_detail(round_id: int):
    session = get_session()
    found = rounds.get_round(session, round_id, actor=_actor())
    summary = progress.round_progress(session, found, today=time.local_date(time.now()), size=1)
    return jsonify({**shapes.reporting_round(found), "completeness": shapes.completeness(summary.overall)})


@bp.get("/me/assignments")
def my_assignments():
    todo = progress.my_todo(get_session(), actor=_actor(), today=time.local_date(time.now()),
                            limit=MAX_PAGE_SIZE)
    rows = [shapes.owed(assignment, found_round, task, report)
            for assignment, found_round, task, report in todo.returned + todo.owed]
    return jsonify(items=rows, total=todo.owed_count + todo.returned_count)


@bp.get("/assignments/<int:assignment_id>")
def assignment_detail(assignment_id: int):
    view = reports.get_assignment(get_session(), assignment_id, actor=_actor())
    return jsonify(shapes.assignment(view))


@bp.put("/assignments/<int:assignment_id>/report")
def report_save(assignment_id: int):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "请求体须为 JSON 对象")
    # only the documented fields: anything else (status, unit_id …) is refused, never silently applied
    unknown = sorted(set(body) - REPORT_FIELDS)
    if unknown:
        raise Invalid(unknown[0], f"不认识的字段：{'、'.join(unknown)}")
    text = body.get("progress_text", "")
    submit = body.get("submit", False)
    raw_values = body.get("values", {})
    if not isinstance(text, str) or not isinstance(submit, bool) or not isinstance(raw_values, dict):
        raise ApiError(422, "invalid", "progress_text 须为字符串，submit 须为布尔值，values 须为对象")
    if len(text) > 5000:
        raise Invalid("progress_text", "工作进展不能超过 5000 个字")
    values: dict[int, Decimal | None] = {}
    for key, raw in raw_values.items():
        if not _is_number(str(key), 12):
            raise Invalid("values", f"目标编号“{key}”无效")
        if raw is None:
            values[int(key)] = None
            continue
        if not isinstance(raw, str) or not VALUE_RE.match(raw):
            raise Invalid("values", f"目标 {key} 的数值须为数字字符串，如 \"35\" 或 \"12.5\"")
        try:
            number = Decimal(str(raw))
        except InvalidOperation:
            raise Invalid("values", f"目标 {key} 的数值“{raw}”不是数字") from None
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise Invalid("values", f"目标 {key} 的数值超出范围")
        values[int(key)] = number
    session = get_session()
    view = reports.get_assignment(session, assignment_id, actor=_actor())
    reports.save_report(session, view, progress_text=text, values=values, submit=submit, actor=_actor(),
                        now=time.now())
    return jsonify(shapes.assignment(reports.get_assignment(session, assignment_id, actor=_actor())))


@bp.get("/evaluations")
def evaluation_list():
    from tracker.accounts.permissions import sees_everything
    from tracker.evaluations.models import Evaluation, EvaluationStatus
    session = get_session()
    query = select(Evaluation).options(selectinload(Evaluation.rule_set)).order_by(Evaluation.id.desc())
    if not sees_everything(_actor()):
        # as on the web (results.list_evaluations): unit staff read published results only
        query = query.where(Evaluation.status == EvaluationStatus.published)
    if (plan_id := _int_arg("plan_id")) is not None:
        query = query.where(Evaluation.plan_id == plan_id)
    if (year := _int_arg("year")) is not None:
        query = query.where(Evaluation.year == year)
    page, size = _page_args()
    found = session.exec(query.offset((page - 1) * size).limit(size)).all()
    return jsonify(items=[shapes.evaluation(e) for e in found], page=page, size=size)


@bp.get("/evaluations/<int:evaluation_id>")
def evaluation_detail(evaluation_id: int):
    from tracker.evaluations.services.results import get_evaluation
    get_evaluation(get_session(), evaluation_id, actor=_actor())  # an unpublished version is 404 to unit staff
    return jsonify(shapes.evaluation_results(get_session(), evaluation_id))
