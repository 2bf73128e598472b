"""Every access rule, as a pure predicate over already-loaded attributes.

Services enforce these with `require`; templates get them through a context processor;
lists are filtered in their queries by the same rules (see `scope` helpers in the services).
"""
from __future__ import annotations

from collections.abc import Collection

from tracker.accounts.models import UserRole
from tracker.errors import NotFound, PermissionDenied

EDITABLE_REPORT_STATUSES = ("draft", "returned")


def require(allowed: bool, message: str = "您的账号没有进行此项操作的权限") -> None:
    """:raises PermissionDenied: if `allowed` is false"""
    if not allowed:
        raise PermissionDenied(message)


def require_visible(visible: bool) -> None:
    """Outside a user's scope an object does not exist for them. :raises NotFound:"""
    if not visible:
        raise NotFound("不存在或不在您的查看范围内")


def _role(user) -> UserRole | None:
    return getattr(user, "role", None) if getattr(user, "is_active", False) else None


def is_office(user) -> bool:
    return _role(user) is UserRole.office


def is_coordinator(user) -> bool:
    return _role(user) is UserRole.coordinator


def is_leader(user) -> bool:
    return _role(user) is UserRole.leader


def is_unit_staff(user) -> bool:
    return _role(user) is UserRole.unit


def sees_everything(user) -> bool:
    """Office, coordinators and leaders read every unit's reports."""
    return _role(user) in (UserRole.office, UserRole.coordinator, UserRole.leader)


# --- administration ------------------------------------------------------------------------------

def can_manage_users(user) -> bool:
    return is_office(user)


def can_manage_units(user) -> bool:
    return is_office(user)


def can_import_plan(user) -> bool:
    return is_office(user)


def can_edit_settings(user) -> bool:
    return is_office(user)


def can_view_audit_log(user) -> bool:
    return is_office(user)


def can_import_contacts(user) -> bool:
    return is_office(user)


# --- rounds --------------------------------------------------------------------------------------

def can_open_round(user) -> bool:
    return is_office(user)


def can_close_round(user) -> bool:
    return is_office(user)


def can_export_ledger(user) -> bool:
    return is_office(user) or is_coordinator(user)


def can_view_round(user) -> bool:
    return _role(user) is not None


# --- reports -------------------------------------------------------------------------------------

def can_report_for(user, unit_id: int) -> bool:
    """Staff of a unit write that unit's reports, and nobody else does."""
    return is_unit_staff(user) and user.unit_id == unit_id


def can_edit_report(user, unit_id: int, status: str | None, round_is_open: bool) -> bool:
    return can_report_for(user, unit_id) and round_is_open and (status is None or status in EDITABLE_REPORT_STATUSES)


def can_view_report(user, unit_id: int, lead_unit_ids: Collection[int]) -> bool:
    if sees_everything(user):
        return True
    return is_unit_staff(user) and (user.unit_id == unit_id or user.unit_id in lead_unit_ids)


def can_review_report(user, lead_unit_ids: Collection[int]) -> bool:
    """The lead unit accepts or returns (退办) the reports of its task."""
    return is_unit_staff(user) and user.unit_id in lead_unit_ids


def can_consolidate(user, lead_unit_ids: Collection[int]) -> bool:
    """The lead unit writes the task's consolidated report and may override its light."""
    return is_unit_staff(user) and user.unit_id in lead_unit_ids


def can_review_task_report(user) -> bool:
    return is_coordinator(user) or is_office(user)


# --- briefings (督查通报) and the leadership dashboard ---------------------------------------------

def can_manage_briefings(user) -> bool:
    """The office drafts, previews, publishes and retries briefings."""
    return is_office(user)


def can_read_briefing(user, is_published: bool) -> bool:
    """A published briefing is issued (印发) to every unit, so every role reads it; drafts stay with the office."""
    if is_office(user):
        return True
    return is_published and _role(user) is not None


def can_view_dashboard(user) -> bool:
    """The leadership dashboard: leaders, the office and the coordinating units."""
    return sees_everything(user)


# --- evaluations (年度评价、中期评估、五年考核) -------------------------------------------------------

def can_enter_energy_data(user) -> bool:
    """Coordinators and the office enter or import the areas' energy figures."""
    return is_coordinator(user) or is_office(user)


def can_score_measures(user) -> bool:
    """Coordinators (and the office) score each area's energy-saving measures (0–60)."""
    return is_coordinator(user) or is_office(user)


def can_enter_indicator_values(user) -> bool:
    return is_coordinator(user) or is_office(user)


def can_view_energy_data(user) -> bool:
    """The data grids are the evaluation's inputs: read by those who see everything."""
    return sees_everything(user)


def can_run_evaluation(user) -> bool:
    """Create an evaluation, open its data collection, compute (or recompute) it."""
    return is_coordinator(user) or is_office(user)


def can_publish_evaluation(user) -> bool:
    return is_office(user) or is_coordinator(user)


def can_edit_rules(user) -> bool:
    """Only the office changes the evaluation rules; every save is a new version."""
    return is_office(user)


def can_view_evaluation(user, is_published: bool) -> bool:
    """Everyone logged in reads published results; drafts and unpublished results only those who see everything."""
    return _role(user) is not None and (is_published or sees_everything(user))
