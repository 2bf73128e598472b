"""The OpenAPI 3.0 description of /api/v1, served at /api/v1/openapi.json and checked by schemathesis."""
from __future__ import annotations

from tracker.web import MAX_ID, MAX_PAGE


def _obj(properties: dict, required: list[str] | None = None, *, extra: bool = False) -> dict:
    return {"type": "object", "properties": properties, "required": required or list(properties),
            "additionalProperties": extra}


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
NSTR = {"type": "string", "nullable": True}
NINT = {"type": "integer", "nullable": True}
DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
NDECIMAL = {**DECIMAL, "nullable": True}
DATE = {"type": "string", "format": "date"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(item: dict, *, paged: bool = False) -> dict:
    properties = {"items": {"type": "array", "items": item}}
    if paged:
        properties.update(page=INT, size=INT, total=INT)
    return _obj(properties)


UNIT = _obj({"id": INT, "name": STR})
SCHEMAS = {
    "Error": _obj({"error": _obj({"code": STR, "message": STR, "field": STR}, ["code", "message"])}),
    "Unit": UNIT,
    "User": _obj({"username": STR, "display_name": STR, "role": {"type": "string",
                  "enum": ["office", "coordinator", "unit", "leader"]}, "unit": UNIT}),
    "Target": _obj({"id": INT, "measure": STR, "comparator": {"type": "string", "nullable": True,
                    "enum": [">=", ">", "<=", "<", "=", "~", None]}, "value": NDECIMAL, "unit": NSTR,
                    "deadline_year": NINT, "text": STR}),
    "Plan": _obj({"slug": STR, "title": STR, "start_year": NINT, "end_year": NINT, "task_count": INT}),
    "TaskSummary": _obj({"id": INT, "key": STR, "section_number": NINT, "number": INT, "title": STR,
                         "lead_units": {"type": "array", "items": UNIT},
                         "responsible_units": {"type": "array", "items": UNIT},
                         "unit_groups": {"type": "array", "items": STR}}),
    "Round": _obj({"id": INT, "plan_id": INT, "label": STR, "period_start": DATE, "period_end": DATE,
                   "due_date": DATE, "status": {"type": "string", "enum": ["open", "closed"]}}),
    "Completeness": _obj({k: INT for k in ("total", "not_started", "draft", "submitted", "returned", "accepted",
                                            "late", "missing")}),
    "Owed": _obj({"assignment_id": INT, "round": _obj({"id": INT, "label": STR, "due_date": DATE}),
                  "task": _obj({"id": INT, "key": STR, "title": STR}), "role": STR, "status": STR,
                  "returned_reason": NSTR}),
    "Evaluation": _obj({"id": INT, "plan_id": INT, "kind": {"type": "string", "enum": ["annual", "midterm", "final"]},
                        "year": INT, "version": INT, "status": STR, "rule_version": NINT}),
}
SCHEMAS["PlanDetail"] = _obj({**SCHEMAS["Plan"]["properties"], "doc_number": NSTR,
                              "sections": {"type": "array", "items": _obj({"id": INT, "number": INT, "title": STR,
                                                                           "task_count": INT})},
                              "targets": {"type": "array", "items": ref("Target")}})
SCHEMAS["Task"] = _obj({**SCHEMAS["TaskSummary"]["properties"], "text": STR, "is_active": BOOL,
                        "targets": {"type": "array", "items": ref("Target")}})
SCHEMAS["RoundDetail"] = _obj({**SCHEMAS["Round"]["properties"], "completeness": ref("Completeness")})
SCHEMAS["Report"] = _obj({"status": {"type": "string", "enum": ["draft", "submitted", "returned", "accepted"]},
                          "progress_text": STR, "submitted_at": {"type": "string", "format": "date-time",
                                                                 "nullable": True},
                          "is_late": BOOL, "returned_reason": NSTR,
                          "values": {"type": "object", "additionalProperties": NDECIMAL},
                          "attachments": {"type": "array", "items": _obj({"id": INT, "name": STR, "size_bytes": INT,
                                                                          "content_type": STR})}})
SCHEMAS["Assignment"] = _obj({"id": INT, "round": ref("Round"),
                              "task": _obj({"id": INT, "key": STR, "title": STR,
                                            "targets": {"type": "array", "items": ref("Target")}}),
                              "unit": UNIT, "role": {"type": "string", "enum": ["lead", "responsible"]},
                              "report": {"allOf": [ref("Report")], "nullable": True}})
SCHEMAS["ReportInput"] = {"type": "object", "additionalProperties": False, "properties": {
    "progress_text": {"type": "string", "maxLength": 5000},
    "values": {"type": "object", "additionalProperties": {"type": "string", "nullable": True,
                                                          "pattern": r"^-?\d{1,12}(\.\d{1,6})?$"}},
    "submit": BOOL}}
AREA = _obj({"area": STR, "basic_target_pct": NDECIMAL, "incentive_target_pct": NDECIMAL, "intensity": NDECIMAL,
             "cumulative_reduction": NDECIMAL, "required_reduction": NDECIMAL, "target_points": NDECIMAL,
             "measures_points": NDECIMAL, "total": NDECIMAL, "grade": NSTR, "is_vetoed": BOOL,
             "is_total_exempt": BOOL, "missing_inputs": {"type": "array", "items": STR}})
SCHEMAS["EvaluationResults"] = _obj({**SCHEMAS["Evaluation"]["properties"],
                                     "areas": {"type": "array", "items": AREA},
                                     "tasks": {"type": "array", "items": _obj({"section_number": NINT, "number": INT,
                                                                               "title": STR, "score": DECIMAL,
                                                                               "grade": STR})}})

ERRORS = {code: {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
          for code, text in (("400", "请求有误"), ("401", "缺少有效的接口令牌"), ("403", "无权操作"),
                             ("404", "不存在或不在查看范围内"), ("409", "状态不允许"), ("422", "填写有误"))}


def _operation(summary: str, schema: dict, *, parameters=(), body: dict | None = None,
               errors=("400", "401", "404")) -> dict:
    operation = {"summary": summary, "parameters": list(parameters),
                 "responses": {"200": {"description": "成功", "content": {"application/json": {"schema": schema}}},
                               **{code: ERRORS[code] for code in errors}}}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def _path_param(name: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True,
            "schema": schema or {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema}


PAGE = [_query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
        _query("size", {"type": "integer", "minimum": 1, "maximum": 200})]
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "规划任务督办系统接口", "version": "1.0.0",
                 "description": "供其他政务系统使用。每个请求带 Authorization: Bearer <令牌>；令牌在“接口令牌”页面创建，"
                                "与创建者的账号权限完全相同。数值以字符串表示，保持原样精度。"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": SCHEMAS},
        "paths": {
            "/me": {"get": _operation("当前令牌的账号", ref("User"), errors=("401",))},
            "/plans": {"get": _operation("计划列表", _list(ref("Plan")), errors=("401",))},
            "/plans/{slug}": {"get": _operation("计划概要", ref("PlanDetail"), parameters=[
                _path_param("slug", {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,79}$"})])},
            "/plans/{slug}/tasks": {"get": _operation("任务清单（分页）", _list(ref("TaskSummary"), paged=True), parameters=[
                _path_param("slug", {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,79}$"}), *PAGE,
                _query("section", ID), _query("lead_unit", ID), _query("unit", ID)])},
            "/tasks/{task_id}": {"get": _operation("任务详情", ref("Task"), parameters=[_path_param("task_id")])},
            "/rounds": {"get": _operation("调度列表", _list(ref("Round"), paged=True),
                                          parameters=[*PAGE, _query("plan_id", ID)])},
            "/rounds/{round_id}": {"get": _operation("调度完成情况", ref("RoundDetail"),
                                                     parameters=[_path_param("round_id")])},
            "/me/assignments": {"get": _operation("本单位待报送和被退回的事项",
                                                  _obj({"items": {"type": "array", "items": ref("Owed")},
                                                        "total": INT}), errors=("401",))},
            "/assignments/{assignment_id}": {"get": _operation("一项报送任务及其报告", ref("Assignment"),
                                                               parameters=[_path_param("assignment_id")])},
            "/assignments/{assignment_id}/report": {"put": _operation(
                "保存草稿或报送报告", ref("Assignment"), parameters=[_path_param("assignment_id")],
                body=ref("ReportInput"), errors=("400", "401", "403", "404", "409", "422"))},
            "/evaluations": {"get": _operation("评价列表", _list(ref("Evaluation"), paged=False) | {
                "properties": {"items": {"type": "array", "items": ref("Evaluation")}, "page": INT, "size": INT},
                "required": ["items", "page", "size"]}, parameters=[*PAGE, _query("plan_id", ID), _query("year", ID)])},
            "/evaluations/{evaluation_id}": {"get": _operation("评价结果", ref("EvaluationResults"),
                                                               parameters=[_path_param("evaluation_id")])},
        },
    }
