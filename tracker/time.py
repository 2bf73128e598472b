"""Time as the plan sees it: stored in UTC, shown and judged in Beijing time."""

import enum
import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

import chinese_calendar
import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, select

from tracker.db import UTCDateTime

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


# --- the working-day calendar ----------------------------------------------------------------
HOLIDAY_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                 "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
                 "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利纪念日"}


class CalendarOverride(SQLModel, table=True):
    """A day the office declares working or not, over the published schedule (a new year's 调休)."""

    __tablename__ = "calendar_overrides"

    day: date = Field(primary_key=True)
    is_working_day: bool
    note: str = Field(default="", sa_column=sa.Column(sa.String(120), nullable=False))
    updated_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    updated_by_id: Optional[int] = None


class DaySource(str, enum.Enum):
    override = "override"      #: the office's entry
    published = "published"    #: the State Council schedule as chinesecalendar knows it
    weekdays = "weekdays"      #: a year nobody has published yet: Monday to Friday


@dataclass(frozen=True)
class CalendarDay:
    day: date
    is_working_day: bool
    source: DaySource
    note: str = ""


@functools.lru_cache(maxsize=4096)
def _published_day(day: date) -> CalendarDay:
    """The State Council schedule's answer for a day. Cached: chinese_calendar scans its whole holiday table
    for the supported range on every call (~10 µs), and a reminder wave asks about the same days per message."""
    try:
        working = chinese_calendar.is_workday(day)
    except NotImplementedError:
        return CalendarDay(day, day.weekday() < 5, DaySource.weekdays)
    note = ""
    if not working and day.weekday() < 5:
        note = HOLIDAY_NAMES.get(chinese_calendar.get_holiday_detail(day)[1], "节假日")
    elif working and day.weekday() >= 5:
        note = "调休上班"
    return CalendarDay(day, working, DaySource.published, note)


class WorkingCalendar:
    """Beijing working days: office overrides, then the published schedule, then Monday–Friday."""

    def __init__(self, overrides: dict[date, tuple[bool, str]] | None = None):
        self.overrides = overrides or {}

    def day(self, day: date) -> CalendarDay:
        if day in self.overrides:
            working, note = self.overrides[day]
            return CalendarDay(day, working, DaySource.override, note)
        return _published_day(day)

    def is_working_day(self, day: date) -> bool:
        return self.day(day).is_working_day

    def add_working_days(self, start: date, count: int) -> date:
        """Return the date `count` working days after `start` (before it, if negative)."""
        step = 1 if count >= 0 else -1
        day, remaining = start, abs(count)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for n in range(1, (end - start).days + 1)
                   if self.is_working_day(start + timedelta(days=n)))

    @staticmethod
    def is_year_published(year: int) -> bool:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
            return True
        except NotImplementedError:
            return False


def load_calendar(session: Session) -> WorkingCalendar:
    """The working-day calendar with the office's overrides, in one query."""
    rows = session.exec(select(CalendarOverride)).all()
    return WorkingCalendar({row.day: (row.is_working_day, row.note) for row in rows})
