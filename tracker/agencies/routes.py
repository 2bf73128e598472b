"""The units directory pages."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from tracker.agencies import services
from tracker.agencies.models import UnitKind, UNIT_KIND_LABELS
from tracker.db import get_session
from tracker.web import Page, page_number

bp = Blueprint("agencies", __name__, url_prefix="/units")


@bp.get("")
def unit_list():
    kind_value = request.args.get("kind", "")
    kind = UnitKind(kind_value) if kind_value in UnitKind._value2member_map_ else None
    search = request.args.get("q", "").strip()[:50]
    session = get_session()
    size, number = current_app.config["PAGE_SIZE"], page_number()
    units, total = services.list_units(session, kind=kind, search=search, page=number, size=size)
    return render_template("agencies/unit_list.html", page=Page(units, number, size, total),
                           groups=services.list_groups(session), kind=kind, search=search,
                           kinds=UNIT_KIND_LABELS)
