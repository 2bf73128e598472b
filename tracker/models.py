"""Every domain's tables, imported once so the metadata (and Alembic) sees them all."""
from tracker.agencies.models import Unit, UnitAlias, UnitGroup, UnitGroupMember  # noqa: F401
from tracker.tasks.models import (AreaTarget, Indicator, Plan, PlanImport, Section, Target,  # noqa: F401
                                  Task, TaskAssignment, TaskGroup)
from sqlmodel import SQLModel

metadata = SQLModel.metadata
