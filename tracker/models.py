"""Every domain's tables, imported once so the metadata (and Alembic) sees them all."""
from tracker.accounts.models import ApiToken, LoginAttempt, User  # noqa: F401
from tracker.agencies.models import Contact, Unit, UnitAlias, UnitGroup, UnitGroupMember  # noqa: F401
from tracker.audit.models import AuditEvent  # noqa: F401
from tracker.briefings.models import Briefing, RenderJob  # noqa: F401
from tracker.evaluations.models import AreaResult, Evaluation, RuleSet, TaskResult  # noqa: F401
from tracker.reporting.models import (AreaEnergyData, Attachment, IndicatorValue,  # noqa: F401
                                      MeasuresScore, ReportedValue, ReportingRound, ReportingSettings,
                                      RoundAssignment, TaskReport, UnitReport)
from tracker.tasks.models import (AreaTarget, Indicator, Plan, PlanImport, Section, Target,  # noqa: F401
                                  Task, TaskAssignment, TaskGroup)
from tracker.reminders.models import MailQueueState, OutboxMessage, ReminderPolicy  # noqa: F401
from tracker.time import CalendarOverride  # noqa: F401
from sqlmodel import SQLModel

metadata = SQLModel.metadata
