"""The office's view of the audit log: filter, page, read.

There is deliberately no route that changes or deletes an entry: the model refuses updates and
deletes, and the database has triggers that refuse them too.

Access: the office alone (`can_view_audit_log`). Anyone else who is logged in gets 403
(PermissionDenied, itself recorded in the log): the log is a function, not an object in a scope.
"""
from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from tracker.accounts.permissions import can_view_audit_log, require
from tracker.audit import services
from tracker.db import get_session
from tracker.web import Page, page_number

bp = Blueprint("audit", __name__, url_prefix="/audit")

FILTER_NAMES = ("action", "actor", "start", "end", "task")


@bp.before_request
def _office_only():
    """Refuse the log to anyone but the office.

    :raise 403: unless the current user may read the audit log
    """
    require(can_view_audit_log(current_user))


@bp.app_template_filter("action_label")
def _action_label(action: str) -> str:
    return services.action_label(action)


def _date_arg(name: str, label: str, problems: list[str]) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{label}应写成“2025-10-20”这样的日期，已忽略")
        return None


@bp.get("")
def event_list():
    problems: list[str] = []
    action = request.args.get("action", "")
    if action not in services.ACTION_LABELS:
        action = ""
    task_text = request.args.get("task", "").strip()
    task_id = int(task_text) if re.fullmatch(r"[0-9]{1,9}", task_text) else None
    if task_text and task_id is None:
        problems.append("任务编号应为数字，已忽略")
    filters = services.AuditFilters(action=action, actor=request.args.get("actor", "").strip()[:60],
                                    start=_date_arg("start", "开始日期", problems),
                                    end=_date_arg("end", "结束日期", problems), task_id=task_id)
    if filters.start and filters.end and filters.start > filters.end:
        problems.append("开始日期晚于结束日期，没有符合条件的记录")
    size, number = current_app.config["PAGE_SIZE"], page_number()
    events, total = services.list_events(get_session(), filters, page=number, size=size)
    typed = {name: request.args.get(name, "")[:60] for name in FILTER_NAMES}
    return render_template("audit/event_list.html", page=Page(events, number, size, total), filters=filters,
                           typed=typed, problems=problems, actions=services.ACTION_LABELS,
                           is_filtered=any(typed.values()))
