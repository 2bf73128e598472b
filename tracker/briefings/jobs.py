"""Scheduler jobs: render the briefings the office asked to publish (the web never renders)."""
from __future__ import annotations

import logging
import os
import socket
import time as clock

from flask import Flask

from tracker import time
from tracker.briefings.services import dashboard as dashboards
from tracker.briefings.services.publishing import Press, render_next_briefing
from tracker.db import get_database, session_scope

log = logging.getLogger("tracker.briefings")

#: one tick renders queued briefings for at most this long, then yields to the next tick
TICK_BUDGET_SECONDS = 50


def render_queued_briefings(app: Flask) -> None:
    worker = f"{socket.gethostname()}:{os.getpid()}"
    started = clock.monotonic()
    with app.app_context(), session_scope(get_database().engine) as session:
        press = Press.from_config(app.config, app.static_folder)
        while clock.monotonic() - started < TICK_BUDGET_SECONDS:
            briefing = render_next_briefing(session, press=press, worker=worker, now=time.now())
            if briefing is None:
                return
            log.info("briefing %s: %s %s", briefing.id, briefing.status.value, briefing.render_error or "")


def summarise_dashboards(app: Flask) -> None:
    with app.app_context(), session_scope(get_database().engine) as session:
        for round_id in dashboards.open_round_ids(session):
            dashboards.refresh_dashboard_figures(session, round_id, now=time.now())


#: (job, seconds between ticks)
SCHEDULE = [(render_queued_briefings, 5), (summarise_dashboards, 300)]
