"""Reporting pages: 我的待办, rounds, reports, reviews."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from tracker import time
from tracker.db import get_session
from tracker.reporting.services import progress

bp = Blueprint("reporting", __name__)


@bp.get("/todo")
def todo():
    today = time.local_date(time.now())
    return render_template("reporting/todo.html", todo=progress.my_todo(get_session(), actor=current_user, today=today),
                           today=today, labels=progress.STATUS_LABELS)
