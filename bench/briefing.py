"""A briefing PDF: publishing it (assemble, lay out, archive, record) against bare `write_pdf()` of the same HTML."""
from __future__ import annotations

from datetime import datetime

from bench.measure import timed
from bench.operations import Result

#: WeasyPrint takes seconds per document; the best of a handful of runs is stable
RUNS = 3
#: a briefing has a row per task; past this many tasks it runs over the 400-page cap and is refused by design
MAX_TASKS = 2000


def measure_briefing(app, engine, dataset, scale: str, database: str) -> Result | None:
    """None when the round is too big for one briefing (the app refuses it with a readable error)."""
    import sqlalchemy as sa
    with engine.connect() as connection:
        tasks = connection.execute(sa.text("SELECT COUNT(DISTINCT task_id) FROM round_assignments WHERE round_id = :r"),
                                   {"r": dataset.open_round_id}).scalar_one()
    if tasks > MAX_TASKS:
        return None
    from sqlmodel import Session
    from weasyprint import HTML

    from tracker.accounts.services import COMMAND_LINE
    from tracker.briefings.document import render_document
    from tracker.briefings.models import BriefingStatus
    from tracker.briefings.services import drafts, publishing
    from tracker.briefings.services.assembly import assemble_content, default_title
    from tracker.reporting.models import ReportingRound

    press = publishing.Press.from_config(app.config, app.static_folder)
    html: list[str] = []

    def publish():
        now = datetime.now().astimezone()
        with Session(engine) as session:
            reporting_round = session.get(ReportingRound, dataset.open_round_id)
            draft = drafts.Draft(round_id=reporting_round.id, evaluation_id=None,
                                 title=default_title(reporting_round), issue_date=now.date())
            briefing = drafts.create_briefing(session, draft, actor=COMMAND_LINE, now=now)
            publishing.publish_briefing(session, briefing, press=press, actor=COMMAND_LINE, now=now)
            if briefing.status is not BriefingStatus.published:
                raise RuntimeError(f"briefing not published: {briefing.render_error}")
            if not html:  # the floor lays out exactly the document the app laid out
                content = assemble_content(session, briefing, issuer=press.issuer)
                content["number_label"] = briefing.number_label
                html.append(render_document(content))

    app_timing = timed(publish, warmup=1, runs=RUNS)
    floor = timed(lambda: HTML(string=html[0]).write_pdf(), warmup=1, runs=RUNS).best_ms
    return Result("briefing_pdf", scale, database, round(app_timing.best_ms, 3), round(floor, 3),
                  round(app_timing.best_ms / floor, 3), 1.5, 0)
