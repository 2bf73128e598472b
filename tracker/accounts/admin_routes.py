"""The office's pages for managing users.

Access: every page here belongs to the office (`can_manage_users`). Anyone else who is logged in gets
403 (PermissionDenied, which is also written to the audit log): user management is a function other
roles know exists but may not use, not an object outside their scope. A user id that does not exist
answers 404.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import time
from tracker.accounts import services
from wtforms.fields.choices import SelectChoice

from tracker.accounts.admin_forms import NewUserForm, ResetPasswordForm, SetActiveForm, UserForm
from tracker.accounts.models import User, UserRole
from tracker.accounts.permissions import can_manage_users, require
from tracker.db import get_session
from tracker.errors import Conflict, Invalid
from tracker.web import Page, page_number, populate_errors

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: accounts may not import a domain (see the import-linter contract), so the unit select reads the table
UNITS = sa.table("units", sa.column("id"), sa.column("name"), sa.column("is_active"))


@bp.before_request
def _office_only():
    """Refuse every page of this blueprint to anyone but the office.

    :raise 403: unless the current user manages users
    """
    require(can_manage_users(current_user))


def _unit_choices() -> list[SelectChoice]:
    rows = get_session().exec(sa.select(UNITS.c.id, UNITS.c.name, UNITS.c.is_active).order_by(UNITS.c.name)).all()
    return [SelectChoice("", "请选择单位")] + [SelectChoice(str(unit_id), name if is_active else f"{name}（已停用）")
                                             for unit_id, name, is_active in rows]


def _fields(form: UserForm) -> services.UserFields:
    return services.UserFields(display_name=form.display_name.data or "", unit_id=form.unit_id.data,
                               role=UserRole(form.role.data), email=form.email.data or "",
                               phone=form.phone.data or None)


@bp.get("/users")
def user_list():
    search = request.args.get("q", "").strip()[:64]
    size, number = current_app.config["PAGE_SIZE"], page_number()
    users, total = services.list_users(get_session(), search=search, page=number, size=size)
    return render_template("accounts/admin/user_list.html", page=Page(users, number, size, total), search=search)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = NewUserForm()
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        try:
            user = services.create_user(get_session(), username=form.username.data, password=form.password.data,
                                        fields=_fields(form), actor=current_user, now=time.now())
        except Invalid as exc:
            populate_errors(form, exc)
            return render_template("accounts/admin/user_new.html", form=form), 422
        flash(f"已新建用户 {user.username}（{user.display_name}）。", "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("accounts/admin/user_new.html", form=form), 422 if form.is_submitted() else 200


def _render_edit(user: User, *, form=None, active_form=None, password_form=None, status: int = 200):
    if form is None:
        form = UserForm(formdata=None, data={"display_name": user.display_name, "unit_id": user.unit_id,
                                             "role": user.role.value, "email": user.email, "phone": user.phone})
    form.unit_id.choices = _unit_choices()
    active_form = active_form or SetActiveForm(formdata=None, data={"is_active": "0" if user.is_active else "1"})
    password_form = password_form or ResetPasswordForm(formdata=None)
    return render_template("accounts/admin/user_edit.html", user=user, form=form, active_form=active_form,
                           password_form=password_form), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    session = get_session()
    user = services.get_user(session, user_id)
    if request.method == "GET":
        return _render_edit(user)
    form = UserForm()
    form.unit_id.choices = _unit_choices()
    if not form.validate_on_submit():
        return _render_edit(user, form=form, status=422)
    try:
        services.update_user(session, user, fields=_fields(form), actor=current_user, now=time.now())
    except Invalid as exc:
        populate_errors(form, exc)
        return _render_edit(user, form=form, status=422)
    flash(f"已保存用户 {user.username} 的信息。", "success")
    return redirect(url_for("admin.user_list"))


@bp.post("/users/<int:user_id>/active")
def user_set_active(user_id: int):
    session = get_session()
    user = services.get_user(session, user_id)
    form = SetActiveForm()
    if not form.validate_on_submit():
        return _render_edit(user, active_form=form, status=422)
    is_active = form.is_active.data == "1"
    try:
        services.set_user_active(session, user, is_active=is_active, actor=current_user, now=time.now())
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    flash(f"已{'启用' if is_active else '停用'}用户 {user.username}"
          f"{'' if is_active else '，其所有登录已退出'}。", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
def user_reset_password(user_id: int):
    session = get_session()
    user = services.get_user(session, user_id)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return _render_edit(user, password_form=form, status=422)
    try:
        services.reset_password(session, user, password=form.password.data, actor=current_user, now=time.now())
    except Invalid as exc:
        populate_errors(form, exc)
        return _render_edit(user, password_form=form, status=422)
    flash(f"已重置用户 {user.username} 的密码，其所有登录已退出。", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))
