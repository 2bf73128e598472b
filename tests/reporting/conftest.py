"""A small plan with one open round: a lead unit, two responsible units, a target."""
from datetime import date, datetime, timezone

import pytest

from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.reporting.services import rounds
from tracker.tasks.models import Comparator, Target
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
    """A Beijing moment as aware UTC."""
    return datetime(year, month, day, hour - 8 if hour >= 8 else hour, tzinfo=timezone.utc)
