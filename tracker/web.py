"""What every page shares: security headers, error pages, filters, paging."""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from flask import Flask, g, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

from tracker import errors, time

CSP = ("default-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")

ERROR_TITLES = {
    400: "请求无效", 403: "无权操作", 404: "页面不存在", 405: "请求方式不允许",
    413: "文件过大", 422: "填写有误", 429: "尝试次数过多", 500: "系统内部错误", 503: "服务暂时不可用",
}
API_ERROR_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                   409: "conflict", 413: "too_large", 422: "invalid", 429: "too_many_requests", 500: "server_error",
                   503: "unavailable"}
ERROR_HINTS = {
    400: "表单已过期或缺少安全令牌，请返回上一页刷新后重试。",
    403: "您的账号没有进行此项操作的权限。",
    404: "您要找的页面不存在，或不在您的查看范围内。",
    413: "上传的文件超过了大小限制。",
    429: "请稍后再试。",
    500: "系统遇到了问题，已记录。请稍后重试，或联系市政府办公室督查科。",
}


#: the largest id a database integer column holds; a larger id in a path is no id (404), never an overflow (500)
MAX_ID = 2**31 - 1
#: pages beyond this are empty anyway; a larger number would overflow the database's OFFSET
MAX_PAGE = 100_000


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: at most MAX_ID, so the database never sees a number it cannot bind."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class NulCharacter(BadRequest):
    """PostgreSQL cannot store or compare text holding a NUL character: such a request is refused before any query."""

    description = "请求中含有无效的控制字符（NUL），已拒绝；请删除后重试。"


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.add_url_rule("/health", "health", health)
    app.before_request(_refuse_nul)
    app.after_request(_security_headers)
    app.jinja_env.filters["local_dt"] = _local_dt
    app.jinja_env.filters["local_date"] = lambda d: d.strftime("%Y-%m-%d") if d else ""
    app.jinja_env.filters["decimal"] = format_decimal
    app.jinja_env.globals["page_url"] = page_url


def health():
    """For the load balancer: 200 when this host can reach the database, 503 when it cannot."""
    import sqlalchemy as sa
    from tracker.db import get_database
    try:
        with get_database().engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception:  # noqa: BLE001 — any failure means: take this host out of rotation
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok"}


def _refuse_nul():
    """Refuse a NUL in the path, a parameter, a form field, an upload's name or a JSON body (400)."""
    texts = [request.path, *(text for key, values in request.args.lists() for text in (key, *values))]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        texts += [text for key, values in request.form.lists() for text in (key, *values)]
        texts += [upload.filename or "" for _, uploads in request.files.lists() for upload in uploads]
    if any("\x00" in text for text in texts) or (request.is_json and b"\\u0000" in request.get_data()):
        raise NulCharacter()


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    from flask import current_app
    if current_app.config.get("HSTS"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def _local_dt(moment, fmt="%Y-%m-%d %H:%M"):
    local = time.to_local(moment)
    return local.strftime(fmt) if local else ""


def format_decimal(value) -> str:
    """Show a Decimal as written, without exponent notation; blank for None."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def register_errorhandlers(app: Flask) -> None:
    def render_error(code: int, message: str | None = None):
        title = ERROR_TITLES.get(code, "出错了")
        if request.path.startswith("/api/"):
            # machines read the API: every error there, even a path no route matches, is JSON
            return {"error": {"code": API_ERROR_CODES.get(code, "error"), "message": message or title}}, code
        return render_template("error.html", code=code, title=title,
                               message=message or ERROR_HINTS.get(code, "")), code

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return render_error(exc.code or 500, exc.description if isinstance(exc, NulCharacter) else None)

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return render_error(400)

    @app.errorhandler(errors.NotFound)
    def _not_found(exc):
        return render_error(404)

    @app.errorhandler(errors.PermissionDenied)
    def _denied(exc):
        _record_denial(exc)
        return render_error(403, exc.message)

    @app.errorhandler(errors.Conflict)
    def _conflict(exc):
        return render_error(409, exc.message)

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    def _database_unavailable(exc):
        # a restart or failover of the database: nothing was saved, and the pool reconnects by itself
        app.logger.warning("database unavailable on %s: %s", request.path, exc.__class__.__name__)
        message = "数据库暂时不可用（连接中断或正忙），您这次的操作没有保存。请稍后重试；如果持续出现，请联系系统管理员。"
        session = g.get("db_session")
        try:
            if session is not None:
                session.rollback()  # the page around the message reads the user: the failed transaction must end
            return render_error(503, message)
        except (sa_exc.OperationalError, sa_exc.InterfaceError):
            # still down: a page without the user's navigation, but the same readable message
            return (f"<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>服务暂时不可用</title>"
                    f"<h1>服务暂时不可用</h1><p>{message}</p></html>"), 503, {"Content-Type": "text/html; charset=utf-8"}

    @app.errorhandler(Exception)
    def _unexpected(exc):
        app.logger.exception("unhandled error on %s", request.path)
        return render_error(500)


@dataclass(frozen=True)
class Page:
    """One page of a list: the rows and where the other pages are."""

    items: list
    number: int
    size: int
    total: int

    @property
    def count(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count


def page_number() -> int:
    try:
        return min(max(1, int(request.args.get("page", "1"))), MAX_PAGE)
    except ValueError:
        return 1


def page_url(number: int) -> str:
    args = request.args.to_dict()
    args["page"] = str(number)
    from urllib.parse import urlencode
    return f"{request.path}?{urlencode(args)}"


def populate_errors(form, exc: errors.Invalid) -> None:
    """Put a service's Invalid on the form field it names (or on the form)."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = list(field.errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)


def _record_denial(exc: errors.PermissionDenied) -> None:
    """Audit a refused action in a transaction of its own (the request's work is discarded)."""
    from flask_login import current_user

    from tracker.audit import services as audit
    from tracker.db import get_session

    session = get_session()
    session.rollback()
    actor = current_user if getattr(current_user, "is_authenticated", False) else None
    audit.record(session, actor=actor, action="permission.denied", now=time.now(),
                 summary=f"{request.method} {request.path}：{exc.message}")
    session.commit()


def url_pattern(endpoint: str, *names: str) -> str:
    """The URL of `endpoint` as a str.format pattern over its integer `names`, in that order: a page with many
    rows formats it for each row rather than building every URL (url_for costs ~15 µs a call)."""
    markers = {name: 987_654_320 + i for i, name in enumerate(names)}
    url = url_for(endpoint, **markers)
    for i, name in enumerate(names):
        if url.count(str(markers[name])) != 1:
            raise ValueError(f"{endpoint}: {name} is not in its URL once ({url})")
        url = url.replace(str(markers[name]), f"{{{i}}}")
    return url


def url_prefix(endpoint: str, **values) -> str:
    """The URL of `endpoint` up to its last id (given as 0): a page with many rows appends each row's id
    rather than building every URL (url_for costs ~15 µs a call)."""
    url = url_for(endpoint, **values)
    if not url.endswith("/0"):
        raise ValueError(f"{endpoint}: the last value must end the URL ({url})")
    return url[:-1]
