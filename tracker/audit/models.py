"""The append-only change log: who did what, when, from where."""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_task_id_id", "task_id", "id"),
                      sa.Index("ix_audit_events_occurred_dt", "occurred_dt"),
                      sa.Index("ix_audit_events_action", "action"))

    id: Optional[int] = Field(default=None, primary_key=True)
    occurred_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    actor_id: Optional[int] = Field(default=None, index=True)
    #: kept as written at the time, so the log reads right after a user is renamed
    actor_name: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    #: "report.submitted", "login.failed", "permission.denied" …
    action: str = Field(sa_column=sa.Column(sa.String(60), nullable=False))
    target_type: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(40)))
    target_id: Optional[int] = None
    task_id: Optional[int] = None
    round_id: Optional[int] = Field(default=None, index=True)
    summary: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    details: dict = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    #: remote address and user agent, or "命令行" for commands
    origin: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
