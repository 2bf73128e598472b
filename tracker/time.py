"""Time as the plan sees it: stored in UTC, shown and judged in Beijing time."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

#: the plan's time zone; due dates and working days are Beijing dates
PLAN_TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """Return the current moment as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def local_date(moment: datetime) -> date:
    """Return the Beijing calendar date of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed to know its Beijing date")
    return moment.astimezone(PLAN_TZ).date()


def to_local(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(PLAN_TZ)


def parse_moment(text: str) -> datetime:
    """Parse an ISO moment; a moment without a zone is read as Beijing time."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PLAN_TZ)
    return moment.astimezone(timezone.utc)
