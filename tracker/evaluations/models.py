"""Evaluations as objects with versions, the versioned rules, and the results they produced."""
import enum
from datetime import datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from tracker.agencies.models import Unit
from tracker.db import DecimalText, UTCDateTime
from tracker.tasks.models import Task


def _enum(cls):
    return sa.Enum(cls, native_enum=False, length=32, validate_strings=True)


class EvaluationKind(str, enum.Enum):
    annual = "annual"      #: 年度评价, each year of the plan
    midterm = "midterm"    #: 中期评估
    final = "final"        #: 五年考核

    @property
    def label(self) -> str:
        return {"annual": "年度评价", "midterm": "中期评估", "final": "五年考核"}[self.value]


class EvaluationStatus(str, enum.Enum):
    draft = "draft"
    collecting = "collecting"
    computed = "computed"
    published = "published"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "collecting": "收集数据", "computed": "已计算", "published": "已发布"}[self.value]


class PathShape(str, enum.Enum):
    geometric = "geometric"   #: R_k = 1 − (1 − T)^(k/5), the official 序时进度
    linear = "linear"         #: R_k = T · k / 5


class RuleSet(SQLModel, table=True):
    """One version of the evaluation rules; edits create a new version, results name the one they used."""

    __tablename__ = "evaluation_rule_sets"

    id: Optional[int] = Field(default=None, primary_key=True)
    version: int = Field(sa_column=sa.Column(sa.Integer, nullable=False, unique=True))
    path_shape: PathShape = Field(default=PathShape.geometric, sa_column=sa.Column(_enum(PathShape), nullable=False))
    #: points for reaching the required path (the target part)
    target_points: Decimal = Field(default=Decimal(40), sa_column=sa.Column(DecimalText, nullable=False))
    #: bonus per full 10 % beyond the path, and its cap
    bonus_per_step: Decimal = Field(default=Decimal(3), sa_column=sa.Column(DecimalText, nullable=False))
    bonus_cap: Decimal = Field(default=Decimal(9), sa_column=sa.Column(DecimalText, nullable=False))
    #: below this share of the required path the target part is 0
    min_share: Decimal = Field(default=Decimal("0.5"), sa_column=sa.Column(DecimalText, nullable=False))
    measures_points: Decimal = Field(default=Decimal(60), sa_column=sa.Column(DecimalText, nullable=False))
    #: grade bands, highest first: [{"min": "95", "grade": "超额完成"}, …]
    bands: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    #: an area off the required path is 未完成 whatever its score
    is_veto_enabled: bool = Field(default=True)
    #: task evaluation weights: {"on_time": "0.4", "targets": "0.4", "status": "0.2"}
    task_weights: dict = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    #: task grade bands, highest first, same shape as `bands`
    task_bands: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    note: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    created_by_id: Optional[int] = Field(default=None, foreign_key="users.id")


class Evaluation(SQLModel, table=True):
    """One evaluation of a plan (kind, year), in versions; a published version never changes."""

    __tablename__ = "evaluations"
    __table_args__ = (sa.UniqueConstraint("plan_id", "kind", "year", "version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    kind: EvaluationKind = Field(sa_column=sa.Column(_enum(EvaluationKind), nullable=False))
    year: int
    version: int = Field(default=1)
    status: EvaluationStatus = Field(default=EvaluationStatus.draft,
                                     sa_column=sa.Column(_enum(EvaluationStatus), nullable=False))
    rule_set_id: Optional[int] = Field(default=None, foreign_key="evaluation_rule_sets.id")
    created_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    created_by_id: Optional[int] = Field(default=None, foreign_key="users.id")
    computed_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    published_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    published_by_id: Optional[int] = Field(default=None, foreign_key="users.id")
    #: at publication: every input and result, frozen; later edits of the data never reach it
    snapshot: dict = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))

    rule_set: Optional[RuleSet] = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class AreaResult(SQLModel, table=True):
    """An area's energy-intensity result in one evaluation version, with every intermediate figure."""

    __tablename__ = "evaluation_area_results"
    __table_args__ = (sa.UniqueConstraint("evaluation_id", "unit_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluations.id", index=True, ondelete="CASCADE")
    unit_id: int = Field(foreign_key="units.id")
    position: int
    basic_target_pct: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    incentive_target_pct: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    intensity: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    cumulative_reduction: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    required_reduction: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    target_points: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    measures_points: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    total: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    grade: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(20)))
    rank: Optional[int] = None
    is_vetoed: bool = Field(default=False)
    is_total_exempt: bool = Field(default=False)
    missing_inputs: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    #: the steps, each with its inputs, figure and the rule applied, for the result page
    explanation: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))

    unit: Unit = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class TaskResult(SQLModel, table=True):
    """A task's score in one evaluation version: on-time reporting, targets met, consolidated status."""

    __tablename__ = "evaluation_task_results"
    __table_args__ = (sa.UniqueConstraint("evaluation_id", "task_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluations.id", index=True, ondelete="CASCADE")
    task_id: int = Field(foreign_key="tasks.id")
    lead_unit_id: Optional[int] = Field(default=None, foreign_key="units.id")
    on_time_rate: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    targets_met_rate: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    status_score: Optional[Decimal] = Field(default=None, sa_column=sa.Column(DecimalText))
    score: Decimal = Field(sa_column=sa.Column(DecimalText, nullable=False))
    grade: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    explanation: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))

    task: Task = Relationship(sa_relationship_kwargs={"lazy": "raise"})
