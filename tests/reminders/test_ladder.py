"""The reminder ladder in working days, across the 2026 Spring Festival and its make-up Saturdays."""
from datetime import date, datetime, time

import pytest

from tracker.reminders.models import ReminderPolicy
from tracker.reminders.policy import in_send_window, next_window_start, standing
from tracker.time import PLAN_TZ, WorkingCalendar

CALENDAR = WorkingCalendar()
POLICY = ReminderPolicy()
DUE = date(2026, 2, 12)  # a Thursday; 2026-02-14 (Saturday) is a make-up working day, 15–23 are the holiday


def test_working_days_skip_the_spring_festival_and_count_its_make_up_saturday():
    assert CALENDAR.add_working_days(DUE, 1) == date(2026, 2, 13)
    assert CALENDAR.add_working_days(DUE, 2) == date(2026, 2, 14)  # 调休上班
    assert CALENDAR.add_working_days(DUE, 3) == date(2026, 2, 24)  # first day after the holiday
    assert CALENDAR.working_days_between(DUE, date(2026, 2, 23)) == 2


@pytest.mark.parametrize("today, lateness, milestone", [
    (date(2026, 2, 6), -4, None),                    # too early for any reminder
    (date(2026, 2, 9), -3, date(2026, 2, 9)),        # 督办提醒 three working days before
    (date(2026, 2, 11), -1, date(2026, 2, 9)),       # nothing new until the due date
    (date(2026, 2, 12), 0, date(2026, 2, 12)),       # reminded on the due date
    (date(2026, 2, 13), 1, date(2026, 2, 13)),       # 催办 on the first working day late
    (date(2026, 2, 14), 2, date(2026, 2, 13)),       # the make-up Saturday counts, but is not a chase day
    (date(2026, 2, 18), 2, date(2026, 2, 13)),       # the holiday adds no lateness
    (date(2026, 2, 24), 3, date(2026, 2, 24)),       # every second working day: 1, 3, 5 …
    (date(2026, 2, 26), 5, date(2026, 2, 26)),
])
def test_the_ladder_reminds_and_chases_on_working_days(today, lateness, milestone):
    position = standing(POLICY, CALENDAR, DUE, today)
    assert (position.lateness, position.milestone) == (lateness, milestone)


def test_the_lead_is_copied_from_three_and_the_office_from_five_working_days_late():
    assert standing(POLICY, CALENDAR, DUE, date(2026, 2, 13)).copy_lead_since is None
    at_three = standing(POLICY, CALENDAR, DUE, date(2026, 2, 24))
    assert at_three.copy_lead_since == date(2026, 2, 24) and at_three.copy_office_since is None
    at_five = standing(POLICY, CALENDAR, DUE, date(2026, 2, 26))
    assert at_five.copy_office_since == date(2026, 2, 26)


def test_an_office_override_changes_the_count():
    calendar = WorkingCalendar({date(2026, 2, 13): (False, "临时放假")})
    assert calendar.add_working_days(DUE, 1) == date(2026, 2, 14)


def test_a_year_not_yet_published_counts_monday_to_friday():
    assert not WorkingCalendar.is_year_published(2031)
    assert CALENDAR.add_working_days(date(2031, 1, 3), 1) == date(2031, 1, 6)


def test_mail_goes_out_only_inside_the_window_on_working_days():
    assert in_send_window(POLICY, CALENDAR, datetime(2026, 2, 13, 9, 0, tzinfo=PLAN_TZ))
    assert not in_send_window(POLICY, CALENDAR, datetime(2026, 2, 13, 8, 0, tzinfo=PLAN_TZ))
    assert not in_send_window(POLICY, CALENDAR, datetime(2026, 2, 17, 10, 0, tzinfo=PLAN_TZ))  # 春节
    assert in_send_window(POLICY, CALENDAR, datetime(2026, 2, 14, 10, 0, tzinfo=PLAN_TZ))  # 调休上班
    evening = datetime(2026, 2, 14, 18, 0, tzinfo=PLAN_TZ)
    assert next_window_start(POLICY, CALENDAR, evening) == datetime.combine(date(2026, 2, 24), time(8, 30), PLAN_TZ)
