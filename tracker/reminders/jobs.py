"""Scheduler jobs: the clock only ticks; the database decides what is due (see RELIABILITY.md)."""
from __future__ import annotations

import logging
import os
import socket

from flask import Flask

from tracker import time
from tracker.db import get_database, session_scope
from tracker.reminders.mailer import mailer_from_config
from tracker.reminders.outbox import send_outbox
from tracker.reminders.planner import plan_reminders

log = logging.getLogger("tracker.reminders")


def plan_due_reminders(app: Flask) -> None:
    with app.app_context(), session_scope(get_database().engine) as session:
        queued = plan_reminders(session, now=time.now(), base_url=app.config["BASE_URL"],
                                sender=app.config["MAIL_SENDER"])
        if queued:
            log.info("queued %d reminder emails", queued)


def send_due_mail(app: Flask) -> None:
    with app.app_context(), session_scope(get_database().engine) as session, mailer_from_config(app.config) as mailer:
        result = send_outbox(session, mailer=mailer, now=time.now(), worker=f"{socket.gethostname()}:{os.getpid()}",
                             sender=app.config["MAIL_SENDER"])
        if result.sent or result.failed or result.dead:
            log.info("sent %d, failed %d, dead %d", result.sent, result.failed, result.dead)


#: (job, seconds between ticks)
SCHEDULE = [(plan_due_reminders, 300), (send_due_mail, 60)]
