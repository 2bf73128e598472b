"""A small plan with one open round: a lead unit, two responsible units, a target."""
import html
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest
from sqlmodel import select

from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.reporting.models import ReportingRound, RoundAssignment
from tracker.reporting.services import rounds
from tracker.tasks.models import Comparator, Target, Task
from tracker.time import PLAN_TZ
from tests.conftest import NOW


@pytest.fixture
def world(session, make_plan, make_unit, make_task, make_user, make_section):
    plan = make_plan(start_year=2021, end_year=2025)
    section = make_section(plan, 2)
    lead, first, second = make_unit("市甲局"), make_unit("市乙局"), make_unit("市丙局")
    task = make_task(plan, lead=lead, responsible=[first, second], section=section, number=1, title="甲工程")
    target = Target(plan_id=plan.id, task_id=task.id, position=0, measure="绿色工厂", comparator=Comparator.at_least,
                    value=35, unit="家", deadline_year=2025, text="创建绿色工厂35家", line=1)
    session.add(target)
    session.flush()
    reporting_round = rounds.open_round(session, plan, label="2025年第三季度调度", period_start=date(2025, 7, 1),
                                        period_end=date(2025, 9, 30), due_date=date(2025, 10, 10),
                                        actor=COMMAND_LINE, now=NOW)

    class World:
        pass

    w = World()
    w.plan, w.task, w.target, w.round = plan, task, target, reporting_round
    w.lead, w.first, w.second = lead, first, second
    w.lead_user = make_user(UserRole.unit, unit=lead)
    w.first_user = make_user(UserRole.unit, unit=first)
    w.second_user = make_user(UserRole.unit, unit=second)
    w.coordinator = make_user(UserRole.coordinator)
    w.office = make_user(UserRole.office)
    w.leader = make_user(UserRole.leader)
    return w


def at(year, month, day, hour=9):
    """A Beijing moment as aware UTC (before 08:00 it is still the previous day in UTC)."""
    return datetime(year, month, day, hour, tzinfo=PLAN_TZ).astimezone(timezone.utc)


class Clock:
    """The moment the pages think it is (tracker.time.now), set per test."""

    def __init__(self, monkeypatch, moment: datetime):
        self.moment = moment
        monkeypatch.setattr("tracker.time.now", lambda: self.moment)

    def set(self, moment: datetime) -> None:
        self.moment = moment


@pytest.fixture
def clock(monkeypatch):
    """Pages run at 09:00 Beijing time on 2025-10-08, two days before the world's due date, unless set."""
    return Clock(monkeypatch, at(2025, 10, 8))


def assignment_id(session, reporting_round, task, unit) -> int:
    """The id of what `unit` owes for `task` in `reporting_round`."""
    return session.exec(select(RoundAssignment.id).where(
        RoundAssignment.round_id == reporting_round.id, RoundAssignment.task_id == task.id,
        RoundAssignment.unit_id == unit.id)).one()


def text_of(response) -> str:
    """A page's text as a reader sees it: tags gone, entities decoded, white space collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


#: the smallest bytes each evidence type is recognised by
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


@dataclass
class Built:
    round: ReportingRound
    tasks: list[Task]
    units: list


def build_round(session, make_plan, make_unit, make_task, tasks: int) -> Built:
    """A plan of `tasks` tasks, each with a lead, a responsible unit and a target, and a round opened on it."""
    plan = make_plan()
    units = [make_unit() for _ in range(6)]
    made = []
    for index in range(tasks):
        task = make_task(plan, lead=units[index % 3], responsible=[units[3 + index % 3]], number=index + 1)
        session.add(Target(plan_id=plan.id, task_id=task.id, position=0, measure="绿色工厂", line=1,
                           comparator=Comparator.at_least, value=35, unit="家", deadline_year=2025, text="创建35家"))
        made.append(task)
    session.flush()
    opened = rounds.open_round(session, plan, label="2025年第三季度调度", period_start=date(2025, 7, 1),
                               period_end=date(2025, 9, 30), due_date=date(2025, 10, 10), actor=COMMAND_LINE, now=NOW)
    return Built(round=opened, tasks=made, units=units)
