"""Reporting rounds (定期调度), each unit's report with evidence, the lead's consolidated report."""
import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from tracker.agencies.models import Unit, UnitGroup
from tracker.db import DecimalText, UTCDateTime
from tracker.tasks.models import Plan, Role, Target, Task


def _enum(cls):
    return sa.Enum(cls, native_enum=False, length=32, validate_strings=True)


class RoundStatus(str, enum.Enum):
    open = "open"
    closed = "closed"


class ReportStatus(str, enum.Enum):
    draft = "draft"
    submitted = "submitted"
    returned = "returned"    #: 退办 — back to the unit with a reason
    accepted = "accepted"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "submitted": "已报送", "returned": "已退回", "accepted": "已采纳"}[self.value]


class TaskProgress(str, enum.Enum):
    not_started = "not_started"   #: 未启动
    in_progress = "in_progress"   #: 推进中
    completed = "completed"       #: 已完成
    lagging = "lagging"           #: 滞后

    @property
    def label(self) -> str:
        return {"not_started": "未启动", "in_progress": "推进中", "completed": "已完成", "lagging": "滞后"}[self.value]


class ReviewStatus(str, enum.Enum):
    submitted = "submitted"
    accepted = "accepted"
    returned = "returned"

    @property
    def label(self) -> str:
        return {"submitted": "待审核", "accepted": "已采纳", "returned": "已退回"}[self.value]


class Light(str, enum.Enum):
    green = "green"
    yellow = "yellow"
    red = "red"

    @property
    def label(self) -> str:
        return {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}[self.value]


class ReportingRound(SQLModel, table=True):
    """One collection of progress for a plan: 2025年第三季度调度."""

    __tablename__ = "reporting_rounds"
    __table_args__ = (sa.UniqueConstraint("plan_id", "label"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    label: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    period_start: date
    period_end: date
    #: reports submitted after this Beijing date are late
    due_date: date
    status: RoundStatus = Field(default=RoundStatus.open, sa_column=sa.Column(_enum(RoundStatus), nullable=False))
    opened_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    opened_by_id: Optional[int] = Field(default=None, foreign_key="users.id")
    closed_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    closed_by_id: Optional[int] = Field(default=None, foreign_key="users.id")

    plan: Plan = Relationship(sa_relationship_kwargs={"lazy": "raise"})

    @property
    def is_open(self) -> bool:
        return self.status is RoundStatus.open


class RoundAssignment(SQLModel, table=True):
    """What one unit owes in a round for one task: created for every (task, unit) when the round opens."""

    __tablename__ = "round_assignments"
    __table_args__ = (sa.UniqueConstraint("round_id", "task_id", "unit_id"),
                      sa.Index("ix_round_assignments_unit_id_round_id", "unit_id", "round_id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="reporting_rounds.id", ondelete="CASCADE")
    task_id: int = Field(foreign_key="tasks.id", index=True)
    unit_id: int = Field(foreign_key="units.id")
    role: Role = Field(sa_column=sa.Column(_enum(Role), nullable=False))
    via_group_id: Optional[int] = Field(default=None, foreign_key="unit_groups.id")
    is_carried_forward: bool = Field(default=False)

    task: Task = Relationship(sa_relationship_kwargs={"lazy": "raise"})
    unit: Unit = Relationship(sa_relationship_kwargs={"lazy": "raise"})
    via_group: Optional[UnitGroup] = Relationship(sa_relationship_kwargs={"lazy": "raise"})
    report: Optional["UnitReport"] = Relationship(
        back_populates="assignment", sa_relationship_kwargs={"lazy": "raise", "uselist": False})


class UnitReport(SQLModel, table=True):
    """A unit's report for one task in one round: progress, values against targets, evidence."""

    __tablename__ = "unit_reports"
    __table_args__ = (sa.Index("ix_unit_reports_round_id_task_id", "round_id", "task_id"),
                      sa.Index("ix_unit_reports_unit_id_status", "unit_id", "status"))

    id: Optional[int] = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="round_assignments.id", unique=True, ondelete="CASCADE")
    round_id: int = Field(foreign_key="reporting_rounds.id")
    task_id: int = Field(foreign_key="tasks.id")
    unit_id: int = Field(foreign_key="units.id")
    status: ReportStatus = Field(default=ReportStatus.draft, sa_column=sa.Column(_enum(ReportStatus), nullable=False))
    progress_text: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    submitted_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: judged by the Beijing date of the (first) submission against the round's due date
    is_late: bool = Field(default=False)
    returned_reason: Optional[str] = Field(default=None, sa_column=sa.Column(sa.Text))
    reviewed_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    reviewed_by_id: Optional[int] = Field(default=None, foreign_key="users.id")
    updated_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    updated_by_id: Optional[int] = Field(default=None, foreign_key="users.id")

    assignment: RoundAssignment = Relationship(back_populates="report", sa_relationship_kwargs={"lazy": "raise"})
    values: list["ReportedValue"] = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "cascade": "all, delete-orphan"})
    attachments: list["Attachment"] = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "order_by": "Attachment.id"})


class ReportedValue(SQLModel, table=True):
    """A figure a unit reports against one of the task's targets, in the target's unit."""

    __tablename__ = "reported_values"
    __table_args__ = (sa.UniqueConstraint("report_id", "target_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="unit_reports.id", ondelete="CASCADE")
    target_id: int = Field(foreign_key="targets.id", index=True)
    value: Decimal = Field(sa_column=sa.Column(DecimalText, nullable=False))
    unit: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(40)))

    target: Target = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Attachment(SQLModel, table=True):
    """Evidence stored under a generated name; the original (Chinese) name is kept for display."""

    __tablename__ = "attachments"

    id: Optional[int] = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="unit_reports.id", index=True)
    original_name: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    stored_name: str = Field(sa_column=sa.Column(sa.String(80), nullable=False, unique=True))
    content_type: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    size_bytes: int
    sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    uploaded_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    uploaded_by_id: Optional[int] = Field(default=None, foreign_key="users.id")


class TaskReport(SQLModel, table=True):
    """The lead unit's consolidated report for a task in a round, and the coordinators' review of it."""

    __tablename__ = "task_reports"
    __table_args__ = (sa.UniqueConstraint("round_id", "task_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="reporting_rounds.id", index=True)
    task_id: int = Field(foreign_key="tasks.id", index=True)
    unit_id: int = Field(foreign_key="units.id")
    progress: TaskProgress = Field(sa_column=sa.Column(_enum(TaskProgress), nullable=False))
    progress_pct: Decimal = Field(sa_column=sa.Column(DecimalText, nullable=False))
    narrative: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    submitted_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    submitted_by_id: Optional[int] = Field(default=None, foreign_key="users.id")
    review_status: ReviewStatus = Field(default=ReviewStatus.submitted,
                                        sa_column=sa.Column(_enum(ReviewStatus), nullable=False))
    review_reason: Optional[str] = Field(default=None, sa_column=sa.Column(sa.Text))
    reviewed_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    reviewed_by_id: Optional[int] = Field(default=None, foreign_key="users.id")
    #: a lead may override the computed light, with a written reason shown beside it
    light_override: Optional[Light] = Field(default=None, sa_column=sa.Column(_enum(Light)))
    light_override_reason: Optional[str] = Field(default=None, sa_column=sa.Column(sa.Text))


class ReportingSettings(SQLModel, table=True):
    """The office's choices for rounds and lights (one row); defaults per DOMAIN.md."""

    __tablename__ = "reporting_settings"

    id: Optional[int] = Field(default=None, primary_key=True)
    #: 定期调度 cadence: a round every N months
    cadence_months: int = Field(default=3)
    #: yellow when consolidated progress trails the pro-rata path by more than this many points
    path_tolerance_pct: int = Field(default=10)
    #: red when a report is still missing this many working days after the due date
    red_after_working_days: int = Field(default=5)
    #: 责任单位-only clauses: the first named unit leads
    first_named_leads: bool = Field(default=True)
    updated_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    updated_by_id: Optional[int] = Field(default=None, foreign_key="users.id")


class AreaEnergyData(SQLModel, table=True):
    """An area's energy figures for one year (2020 is the base), the inputs of 能耗强度 evaluation."""

    __tablename__ = "area_energy_data"
    __table_args__ = (sa.UniqueConstraint("plan_id", "unit_id", "year"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    year: int
    #: 能源消费总量, 吨标准煤
    energy_tce: Decimal = Field(sa_column=sa.Column(DecimalText, nullable=False))
    #: 地区生产总值 at comparable 2020 prices, 万元
    gdp_10k_yuan: Decimal = Field(sa_column=sa.Column(DecimalText, nullable=False))
    #: 新增可再生能源电力消费量 since 2020, 吨标准煤 — excluded from assessed energy
    renewable_tce: Decimal = Field(sa_column=sa.Column(DecimalText, nullable=False))
    #: 原料用能, 吨标准煤 — excluded from assessed energy
    feedstock_tce: Decimal = Field(sa_column=sa.Column(DecimalText, nullable=False))
    #: the expected total consumption (预期性指标), 吨标准煤, when the area has one
    expected_total_tce: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    source: str = Field(default="browser", sa_column=sa.Column(sa.String(40), nullable=False))
    updated_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    updated_by_id: Optional[int] = Field(default=None, foreign_key="users.id")

    unit: Unit = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class MeasuresScore(SQLModel, table=True):
    """The coordinators' score (0–60) of an area's measures for one year, with a short justification."""

    __tablename__ = "measures_scores"
    __table_args__ = (sa.UniqueConstraint("plan_id", "unit_id", "year"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    year: int
    score: Decimal = Field(sa_column=sa.Column(DecimalText, nullable=False))
    note: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    updated_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    updated_by_id: Optional[int] = Field(default=None, foreign_key="users.id")

    unit: Unit = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class IndicatorValue(SQLModel, table=True):
    """A yearly value of an 附件 2 indicator, in the indicator's unit."""

    __tablename__ = "indicator_values"
    __table_args__ = (sa.UniqueConstraint("indicator_id", "year"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicators.id", index=True)
    year: int
    value: Decimal = Field(sa_column=sa.Column(DecimalText, nullable=False))
    note: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    updated_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    updated_by_id: Optional[int] = Field(default=None, foreign_key="users.id")


class RoundLightSummary(SQLModel, table=True):
    """When a round's lights were last summarised, for the dashboard that cannot compute 100,000 lights live."""

    __tablename__ = "round_light_summaries"

    round_id: int = Field(sa_column=sa.Column(sa.ForeignKey("reporting_rounds.id", ondelete="CASCADE"),
                                              primary_key=True))
    #: the Beijing date the lights were computed for: a summary of another day is not used
    computed_on: Optional[date] = None
    computed_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: a scheduler refreshing the round holds it until then, so two schedulers never refresh it at once
    lease_until: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))


class TaskLightSummary(SQLModel, table=True):
    """One task's light in a round as last summarised (refreshed by the scheduler and by each review)."""

    __tablename__ = "task_light_summaries"
    __table_args__ = (sa.Index("ix_task_light_summaries_round_id_section_id", "round_id", "section_id", "light"),)

    round_id: int = Field(sa_column=sa.Column(sa.ForeignKey("reporting_rounds.id", ondelete="CASCADE"),
                                              primary_key=True))
    task_id: int = Field(sa_column=sa.Column(sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True))
    #: the task's section, kept here so the dashboard's rollup reads one table
    section_id: Optional[int] = None
    light: Optional[Light] = Field(default=None, sa_column=sa.Column(_enum(Light)))
    computed_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
