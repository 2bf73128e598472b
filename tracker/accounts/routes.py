"""Logging in and out, and changing one's own password."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session as cookie, url_for
from flask_login import current_user, login_required, login_user, logout_user

from tracker import time
from tracker.accounts import services, tokens
from tracker.accounts.forms import ChangePasswordForm, LoginForm, RevokeForm, TokenForm
from tracker.accounts.web import safe_next, start_session
from tracker.db import get_session
from tracker.errors import Conflict, Invalid
from tracker.web import populate_errors

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("reporting.todo"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(get_session(), form.username.data, form.password.data,
                                         ip=request.remote_addr or "-", now=time.now())
        except (services.LoginFailed, services.LoginThrottled) as exc:
            form.form_errors.append(exc.message)
            return render_template("accounts/login.html", form=form), 401
        cookie.clear()
        login_user(user)
        start_session(user)
        return redirect(safe_next(request.args.get("next")) or url_for("reporting.todo"))
    return render_template("accounts/login.html", form=form), 422 if form.is_submitted() else 200


@bp.post("/logout")
@login_required
def logout():
    services.end_sessions(get_session(), current_user, now=time.now())
    logout_user()
    cookie.clear()
    flash("已退出登录。", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = services.change_password(get_session(), current_user, current=form.current_password.data,
                                            new=form.new_password.data, now=time.now())
        except Invalid as exc:
            populate_errors(form, exc)
            return render_template("accounts/change_password.html", form=form), 422
        login_user(user)
        start_session(user)
        flash("密码已修改，其他设备上的登录已全部退出。", "success")
        return redirect(url_for("reporting.todo"))
    return render_template("accounts/change_password.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens_page():
    """Personal API tokens: the secret is shown once, right after creation; only its hash is kept."""
    session = get_session()
    form = TokenForm()
    secret = None
    status = 200
    if form.validate_on_submit():
        try:
            _, secret = tokens.create_token(session, current_user, name=form.name.data, actor=current_user,
                                            now=time.now())
            form = TokenForm(formdata=None)
        except Invalid as exc:
            populate_errors(form, exc)
            status = 422
    elif form.is_submitted():
        status = 422
    response = render_template("accounts/tokens.html", form=form, secret=secret,
                               tokens=tokens.list_tokens(session, current_user), revoke_form=RevokeForm())
    return response, status


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def token_revoke(token_id: int):
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            tokens.revoke_token(get_session(), token_id, actor=current_user, now=time.now())
            flash("令牌已吊销，立即失效。", "success")
        except Conflict as exc:
            flash(exc.message, "error")
    return redirect(url_for("accounts.tokens_page"))
