"""Write and read the append-only audit log."""
from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import event
from sqlmodel import Session, func, select

from tracker.audit.models import AuditEvent

#: where the current change comes from ("1.2.3.4 Mozilla/5.0 …"); set by the web layer per request
ORIGIN: ContextVar[str] = ContextVar("tracker_audit_origin", default="命令行")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise PermissionError("审计日志只能追加，不能修改或删除")


def one_line(text: str, limit: int = 500) -> str:
    """Collapse control characters (CR, LF …) so user input can never forge a second log line."""
    return _CONTROL.sub(" ", text or "")[:limit]


def record(session: Session, *, actor, action: str, summary: str, now: datetime, target=None,
           task_id: int | None = None, round_id: int | None = None, details: dict | None = None) -> AuditEvent:
    """Stage an audit row in the caller's transaction (the caller commits)."""
    entry = AuditEvent(
        occurred_dt=now, actor_id=getattr(actor, "id", None), actor_name=one_line(actor_name(actor), 120),
        action=action, target_type=getattr(target, "__tablename__", None), target_id=getattr(target, "id", None),
        task_id=task_id, round_id=round_id, summary=one_line(summary), details=details or {},
        origin=one_line(ORIGIN.get(), 300))
    session.add(entry)
    return entry


def actor_name(actor) -> str:
    if actor is None:
        return "系统"
    return getattr(actor, "display_name", None) or getattr(actor, "username", None) or "系统"


@dataclass
class AuditFilters:
    action: str = ""
    actor: str = ""
    start: date | None = None
    end: date | None = None
    task_id: int | None = None


def list_events(session: Session, filters: AuditFilters, *, page: int, size: int) -> tuple[list[AuditEvent], int]:
    """Return (one page of events, newest first, total) matching the filters."""
    query = select(AuditEvent)
    if filters.action:
        query = query.where(AuditEvent.action.startswith(filters.action))
    if filters.actor:
        query = query.where(AuditEvent.actor_name.contains(filters.actor.replace("%", "")))
    if filters.start:
        query = query.where(AuditEvent.occurred_dt >= _day_start(filters.start))
    if filters.end:
        query = query.where(AuditEvent.occurred_dt < _day_start(filters.end + timedelta(days=1)))
    if filters.task_id:
        query = query.where(AuditEvent.task_id == filters.task_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(AuditEvent.id.desc()).offset((page - 1) * size).limit(size)).all()
    return list(rows), total


def _day_start(day: date) -> datetime:
    from tracker.time import PLAN_TZ
    return datetime(day.year, day.month, day.day, tzinfo=PLAN_TZ)


def task_timeline(session: Session, task_id: int, *, limit: int = 200) -> list[AuditEvent]:
    """The task's history, oldest first: reports, reviews, status and light changes."""
    rows = session.exec(select(AuditEvent).where(AuditEvent.task_id == task_id)
                        .order_by(AuditEvent.id.desc()).limit(limit)).all()
    return list(reversed(rows))


ACTION_LABELS = {
    "login.succeeded": "登录", "login.failed": "登录失败", "login.throttled": "登录被限制", "logout": "退出登录",
    "permission.denied": "越权访问被拒绝", "password.changed": "修改密码", "password.reset": "重置密码",
    "user.created": "新建用户", "user.updated": "修改用户", "user.disabled": "停用用户", "user.enabled": "启用用户",
    "unit.created": "新建单位", "unit.updated": "修改单位", "group.updated": "修改单位组",
    "plan.imported": "导入计划", "round.opened": "开启调度", "round.closed": "关闭调度",
    "report.saved": "保存报告草稿", "report.submitted": "报送报告", "report.returned": "退回报告（退办）",
    "report.accepted": "采纳报告", "attachment.added": "上传佐证材料", "attachment.removed": "删除佐证材料",
    "task_report.submitted": "报送汇总报告", "task_report.accepted": "采纳汇总报告",
    "task_report.returned": "退回汇总报告", "light.overridden": "调整红黄绿灯",
    "settings.updated": "修改设置", "contacts.imported": "导入联系人", "ledger.exported": "导出台账",
    "contact.added": "新增联系人", "contact.updated": "修改联系人", "contact.removed": "删除联系人",
    "token.created": "创建接口令牌", "token.revoked": "吊销接口令牌", "mail.resent": "重新发送邮件",
    "mail.resumed": "恢复邮件发送", "calendar.changed": "调整工作日日历", "user.logged_out": "退出登录",
    "briefing.created": "新建督查通报", "briefing.updated": "修改督查通报", "briefing.publication_requested": "申请发布督查通报",
    "briefing.published": "发布督查通报", "briefing.render_failed": "督查通报生成失败",
    "energy_data.saved": "录入能源数据", "energy_data.imported": "导入能源数据", "measures.saved": "录入措施评分",
    "measures.imported": "导入措施评分", "indicator_values.saved": "录入指标数值", "evaluation.created": "新建评价",
    "evaluation.collecting": "开始收集评价数据", "evaluation.computed": "计算评价", "evaluation.published": "发布评价",
    "evaluation_rules.saved": "修改评价规则",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
