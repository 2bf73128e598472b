"""The plan as imported: sections, tasks with their units, targets, and the annex tables."""

import enum
from datetime import datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from tracker.agencies.models import Unit, UnitGroup
from tracker.db import DecimalText, UTCDateTime


def _enum(cls):
    return sa.Enum(cls, native_enum=False, length=32, validate_strings=True)


class Role(str, enum.Enum):
    lead = "lead"                #: 牵头单位 — answers for the task, consolidates progress
    responsible = "responsible"  #: 责任单位 — does part of the work, reports to the lead

    @property
    def label(self) -> str:
        return "牵头单位" if self is Role.lead else "责任单位"


class Comparator(str, enum.Enum):
    at_least = "at_least"
    more_than = "more_than"
    at_most = "at_most"
    less_than = "less_than"
    equal = "equal"
    about = "about"

    @property
    def symbol(self) -> str:
        return COMPARATOR_SYMBOLS[self]

    @property
    def label(self) -> str:
        return COMPARATOR_LABELS[self]

    @classmethod
    def from_symbol(cls, symbol: str | None) -> Optional["Comparator"]:
        return None if symbol is None else SYMBOL_COMPARATORS[symbol]


COMPARATOR_SYMBOLS = {
    Comparator.at_least: ">=", Comparator.more_than: ">", Comparator.at_most: "<=",
    Comparator.less_than: "<", Comparator.equal: "=", Comparator.about: "~",
}
SYMBOL_COMPARATORS = {symbol: c for c, symbol in COMPARATOR_SYMBOLS.items()}
COMPARATOR_LABELS = {
    Comparator.at_least: "不低于", Comparator.more_than: "超过", Comparator.at_most: "不超过",
    Comparator.less_than: "低于", Comparator.equal: "等于", Comparator.about: "左右",
}


class TaskLevel(str, enum.Enum):
    section = "section"  #: 一、 — a numbered part that carries its own annotation
    clause = "clause"    #: （一）
    item = "item"        #: 1.


class Plan(SQLModel, table=True):
    __tablename__ = "plans"

    id: Optional[int] = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=sa.Column(sa.String(80), nullable=False, unique=True))
    title: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    doc_number: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(80)))
    start_year: Optional[int] = None
    end_year: Optional[int] = None
    #: the document's own words for who leads (列第一位者为牵头单位), if it states them
    lead_rule_text: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(200)))
    source_filename: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(300)))
    source_sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    imported_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    updated_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))


class Section(SQLModel, table=True):
    __tablename__ = "plan_sections"
    __table_args__ = (sa.UniqueConstraint("plan_id", "number"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    number: int
    label: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    title: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    line: int


class Task(SQLModel, table=True):
    """The smallest numbered clause that carries (or inherits) an annotation naming its units."""

    __tablename__ = "tasks"
    __table_args__ = (sa.UniqueConstraint("plan_id", "key"),
                      sa.Index("ix_tasks_plan_id_position", "plan_id", "position"))

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", ondelete="CASCADE")
    section_id: Optional[int] = Field(default=None, foreign_key="plan_sections.id", index=True)
    #: stable clause key ("2.3", "4.1.5", "12"): a re-import updates the task with the same key
    key: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    level: TaskLevel = Field(sa_column=sa.Column(_enum(TaskLevel), nullable=False))
    section_number: Optional[int] = None
    clause_number: Optional[int] = None
    #: the clause's own printed ordinal: （三） → 3, 12. → 12
    number: int
    label: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    title: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    line: int
    position: int
    #: False once a re-import no longer finds the clause; its history stays
    is_active: bool = Field(default=True)

    plan: Plan = Relationship(sa_relationship_kwargs={"lazy": "raise"})
    section: Optional[Section] = Relationship(sa_relationship_kwargs={"lazy": "raise"})
    assignments: list["TaskAssignment"] = Relationship(
        back_populates="task",
        sa_relationship_kwargs={"lazy": "raise", "cascade": "all, delete-orphan",
                                "order_by": "TaskAssignment.position"})
    groups: list["TaskGroup"] = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "cascade": "all, delete-orphan",
                                "order_by": "TaskGroup.position"})
    targets: list["Target"] = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "order_by": "Target.position"})

    @property
    def display_number(self) -> str:
        prefix = f"{self.section.label}" if self.section is not None and self.level is not TaskLevel.section else ""
        return f"{prefix}{self.label}"


class TaskAssignment(SQLModel, table=True):
    """A unit that carries a task, and in which role: named, or through a group or carry-forward."""

    __tablename__ = "task_assignments"
    __table_args__ = (sa.UniqueConstraint("task_id", "unit_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE")
    unit_id: int = Field(foreign_key="units.id", index=True)
    role: Role = Field(sa_column=sa.Column(_enum(Role), nullable=False))
    #: set when the unit carries the task only as a member of this group
    via_group_id: Optional[int] = Field(default=None, foreign_key="unit_groups.id", index=True)
    #: set when the unit came from a carry-forward clause (以下均需…落实，不再列出)
    is_carried_forward: bool = Field(default=False)
    position: int

    task: Task = Relationship(back_populates="assignments", sa_relationship_kwargs={"lazy": "raise"})
    unit: Unit = Relationship(sa_relationship_kwargs={"lazy": "raise"})
    via_group: Optional[UnitGroup] = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class TaskGroup(SQLModel, table=True):
    """A group named by a task, kept as a group: its members are resolved when a round opens."""

    __tablename__ = "task_groups"
    __table_args__ = (sa.UniqueConstraint("task_id", "group_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE")
    group_id: int = Field(foreign_key="unit_groups.id", index=True)
    role: Role = Field(sa_column=sa.Column(_enum(Role), nullable=False))
    is_carried_forward: bool = Field(default=False)
    position: int

    group: UnitGroup = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Target(SQLModel, table=True):
    """A commitment in the clause text: 到2025年，创建绿色工厂35家 → 绿色工厂 ≥ 35 家 by 2025."""

    __tablename__ = "targets"
    __table_args__ = (sa.Index("ix_targets_plan_id_task_id", "plan_id", "task_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", ondelete="CASCADE")
    #: None for the plan's headline targets
    task_id: Optional[int] = Field(default=None, foreign_key="tasks.id", ondelete="CASCADE")
    position: int
    measure: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    comparator: Optional[Comparator] = Field(default=None, sa_column=sa.Column(_enum(Comparator)))
    #: None for a qualitative target (水质达到Ⅱ类, 零填埋)
    value: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    unit: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(40)))
    deadline_year: Optional[int] = None
    #: the source phrase, as the document words it
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    line: int

    @property
    def is_qualitative(self) -> bool:
        return self.value is None


class AreaTarget(SQLModel, table=True):
    """附件 1: an area's energy-intensity reduction targets for the plan period."""

    __tablename__ = "area_targets"
    __table_args__ = (sa.UniqueConstraint("plan_id", "unit_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    unit_id: int = Field(foreign_key="units.id", index=True)
    position: int
    basic_pct: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    incentive_pct: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    flags: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    line: int

    unit: Unit = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Indicator(SQLModel, table=True):
    """附件 2: a sector indicator with its base-year value, target and stated change."""

    __tablename__ = "indicators"
    __table_args__ = (sa.UniqueConstraint("plan_id", "sector", "name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    position: int
    sector: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    unit: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(60)))
    baseline_year: Optional[int] = None
    baseline_value: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    target_year: Optional[int] = None
    target_value: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    #: the change column as written (27.02/〔-19.7%〕)
    change_text: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(80)))
    #: the row's cells as written, so nothing the document said is lost
    raw_cells: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    flags: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    line: int


class PlanImport(SQLModel, table=True):
    """One import of a document into a plan, with what it changed and what it warned about."""

    __tablename__ = "plan_imports"

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    imported_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    filename: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(300)))
    sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    actor_id: Optional[int] = None
    #: {"created": {...}, "updated": [...], "withdrawn": [...], "new_units": [...], "warnings": [...]}
    report: dict = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))


def meets(comparator: Optional[Comparator], target: Optional[Decimal], actual: Optional[Decimal]) -> Optional[bool]:
    """Tell whether `actual` meets the target; None when it cannot be judged (qualitative, no value).

    "左右" (about) accepts five percent either side of the target.
    """
    if comparator is None or target is None or actual is None:
        return None
    if comparator is Comparator.at_least:
        return actual >= target
    if comparator is Comparator.more_than:
        return actual > target
    if comparator is Comparator.at_most:
        return actual <= target
    if comparator is Comparator.less_than:
        return actual < target
    if comparator is Comparator.equal:
        return actual == target
    return abs(actual - target) <= abs(target) * Decimal("0.05")
