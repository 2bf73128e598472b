"""Fault tests reuse the domains' worlds: the reminders' round with late units and the reporting world."""
from tests.reminders.conftest import reminder_world  # noqa: F401
