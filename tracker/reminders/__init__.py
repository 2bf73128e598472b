"""Email reminders and escalation on the Chinese working-day calendar, through an outbox."""
