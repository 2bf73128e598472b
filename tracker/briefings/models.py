"""Briefings, their numbers and archived PDFs, and the render jobs the worker process claims."""
import enum
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime


def _enum(cls):
    return sa.Enum(cls, native_enum=False, length=32, validate_strings=True)


class BriefingStatus(str, enum.Enum):
    draft = "draft"
    rendering = "rendering"    #: publication asked; the worker is making the PDF
    published = "published"    #: archived with its PDF and sha256; never edited again
    failed = "failed"          #: the render failed; the office sees why and may try again

    @property
    def label(self) -> str:
        return {"draft": "草稿", "rendering": "正在生成 PDF", "published": "已发布", "failed": "生成失败"}[self.value]


class Briefing(SQLModel, table=True):
    """A 督查通报 for a round (and optionally an evaluation): 2025年第3期."""

    __tablename__ = "briefings"
    __table_args__ = (sa.UniqueConstraint("year", "number"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    round_id: int = Field(foreign_key="reporting_rounds.id", index=True)
    evaluation_id: Optional[int] = Field(default=None, foreign_key="evaluations.id")
    #: the number is given per year at publication: (year, number) is unique
    year: int
    number: Optional[int] = None
    title: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    issue_date: date
    #: the office's free sections: 开头语, 存在问题, 下步工作 (plain text; markup stays text)
    opening: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    problems: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    next_steps: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    status: BriefingStatus = Field(default=BriefingStatus.draft, sa_column=sa.Column(_enum(BriefingStatus), nullable=False))
    #: the assembled content as published, so the archive can be read without recomputing
    snapshot: dict = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    pdf_stored_name: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(120)))
    pdf_sha256: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(64)))
    pdf_size_bytes: Optional[int] = None
    pdf_page_count: Optional[int] = None
    render_error: Optional[str] = Field(default=None, sa_column=sa.Column(sa.Text))
    created_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    created_by_id: Optional[int] = Field(default=None, foreign_key="users.id")
    published_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    published_by_id: Optional[int] = Field(default=None, foreign_key="users.id")

    @property
    def number_label(self) -> str:
        return f"{self.year}年第{self.number}期" if self.number else f"{self.year}年（发布时编号）"


class JobStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class RenderJob(SQLModel, table=True):
    """Rendering a briefing's PDF off the request path: claimed atomically by a worker process."""

    __tablename__ = "render_jobs"
    __table_args__ = (sa.Index("ix_render_jobs_status_id", "status", "id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    briefing_id: int = Field(foreign_key="briefings.id", index=True)
    status: JobStatus = Field(default=JobStatus.queued, sa_column=sa.Column(_enum(JobStatus), nullable=False))
    claimed_by: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(120)))
    lease_until: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    attempts: int = Field(default=0)
    created_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    started_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    finished_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    error: Optional[str] = Field(default=None, sa_column=sa.Column(sa.Text))


class DashboardFigures(SQLModel, table=True):
    """A round's report rollups for the dashboard (totals, overdue, late units) as the scheduler last computed
    them: over a nation's reports they take seconds live, and leaders read the dashboard in a minute."""

    __tablename__ = "dashboard_figures"

    round_id: int = Field(sa_column=sa.Column(sa.ForeignKey("reporting_rounds.id", ondelete="CASCADE"),
                                              primary_key=True))
    #: the Beijing date they were computed for: figures of another day are not shown
    computed_on: date
    computed_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    figures: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
