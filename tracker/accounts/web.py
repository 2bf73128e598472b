"""Sessions on the web: who is logged in, for how long, and that every page asks first."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, session as cookie, url_for
from flask_login import current_user, logout_user

from tracker import time
from tracker.accounts import permissions, services
from tracker.audit import services as audit
from tracker.db import get_session
from tracker.extensions import login_manager

#: endpoints anyone may open without logging in
PUBLIC_ENDPOINTS = {"accounts.login", "static", "health"}


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    app.before_request(_before_request)
    app.teardown_request(_forget_origin)
    app.context_processor(lambda: {"can": permissions})
    app.jinja_env.globals["main_nav"] = _main_nav


#: the main navigation, rendered once per (role, page, mount point): it shows links by role and marks the page
_NAV_CACHE: dict[tuple, str] = {}


def _main_nav():
    from markupsafe import Markup
    from flask import render_template
    if not current_user.is_authenticated:
        return Markup("")
    key = (current_user.role, request.endpoint, request.script_root)
    rendered = _NAV_CACHE.get(key)
    if rendered is None:
        rendered = _NAV_CACHE[key] = Markup(render_template("_nav.html"))
    return rendered


def _load_user(session_id: str):
    return services.load_session_user(get_session(), session_id)


def _before_request():
    g.origin_token = audit.ORIGIN.set(f"{request.remote_addr or '-'} {request.user_agent.string[:200]}")
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            return None
        return redirect(url_for("accounts.login", next=request.full_path if request.query_string else request.path))
    now = time.now()
    started = _moment(cookie.get("login_dt"))
    seen = _moment(cookie.get("seen_dt"))
    config = current_app.config
    if (started is None or now - started > timedelta(hours=config["ABSOLUTE_TIMEOUT_HOURS"])
            or seen is None or now - seen > timedelta(minutes=config["IDLE_TIMEOUT_MINUTES"])):
        logout_user()
        cookie.clear()
        from flask import flash
        flash("登录已超时，请重新登录。", "warning")
        return redirect(url_for("accounts.login", next=request.full_path if request.query_string else request.path))
    if now - seen > timedelta(minutes=1):
        cookie["seen_dt"] = now.isoformat()
    g.actor = current_user
    return None


def _forget_origin(_exc) -> None:
    """A thread that served a request must not lend its address to later work (a command, a job)."""
    token = g.pop("origin_token", None)
    if token is not None:
        audit.ORIGIN.reset(token)


def start_session(user) -> None:
    """Mark the cookie with when this login started, for the idle and absolute timeouts."""
    moment = time.now().isoformat()
    cookie["login_dt"] = moment
    cookie["seen_dt"] = moment


def _moment(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value).astimezone(timezone.utc) if value else None
    except ValueError:
        return None


def safe_next(target: str | None) -> str | None:
    """Only a path on this site, never another host (open redirect).

    Browsers drop tabs and newlines from URLs, so "/\t/evil.example" would become "//evil.example":
    any control character or space refuses the target, as does a scheme, a host or a backslash.
    """
    if not target or not target.startswith("/") or "\\" in target:
        return None
    if any(ord(ch) < 0x21 or ord(ch) == 0x7f for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target
