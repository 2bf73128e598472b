"""Scheduler job: keep each open round's summarised lights (the dashboard's source) fresh."""
from __future__ import annotations

import logging

from flask import Flask

from tracker import time
from tracker.db import get_database, session_scope
from tracker.reporting.services.light_summary import claim_rounds_to_summarise, refresh_round_lights

log = logging.getLogger("tracker.reporting")


def summarise_round_lights(app: Flask) -> None:
    with app.app_context(), session_scope(get_database().engine) as session:
        for round_id in claim_rounds_to_summarise(session, now=time.now()):
            tasks = refresh_round_lights(session, round_id, now=time.now())
            log.info("round %s: lights of %s tasks summarised", round_id, tasks)


#: (job, seconds between ticks)
SCHEDULE = [(summarise_round_lights, 300)]
