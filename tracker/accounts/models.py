"""People who use the tracker, what they are, and the attempts they made to log in."""
import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from tracker.db import UTCDateTime


class UserRole(str, enum.Enum):
    office = "office"              #: 政府办督查科 — runs the system
    coordinator = "coordinator"    #: 统筹单位 — sees everything, reviews lead units' reports
    unit = "unit"                  #: a unit's staff — lead or responsible depending on the task
    leader = "leader"              #: 市领导 — reads dashboards and briefings

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {UserRole.office: "政府办督查科", UserRole.coordinator: "统筹单位",
               UserRole.unit: "承办单位", UserRole.leader: "领导"}


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    display_name: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    unit_id: int = Field(foreign_key="units.id", index=True)
    role: UserRole = Field(sa_column=sa.Column(sa.Enum(UserRole, native_enum=False, length=32), nullable=False))
    email: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    phone: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(40)))
    password_hash: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    is_active: bool = Field(default=True)
    #: bumped by logout, password change and disabling: every older session stops working
    session_epoch: int = Field(default=0)
    created_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    password_changed_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    last_login_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))

    unit: "Unit" = Relationship(sa_relationship_kwargs={"lazy": "raise"})  # noqa: F821

    # Flask-Login protocol -------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def role_label(self) -> str:
        return self.role.label


class LoginAttempt(SQLModel, table=True):
    """One try at logging in; throttling counts these, so every worker and restart agrees."""

    __tablename__ = "login_attempts"
    __table_args__ = (sa.Index("ix_login_attempts_username_dt", "username", "occurred_dt"),
                      sa.Index("ix_login_attempts_ip_dt", "ip", "occurred_dt"))

    id: Optional[int] = Field(default=None, primary_key=True)
    occurred_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    username: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    ip: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    succeeded: bool = Field(default=False)


class ApiToken(SQLModel, table=True):
    """A personal token for the JSON API: kept only as a hash, acting with exactly its user's permissions."""

    __tablename__ = "api_tokens"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(sa_column=sa.Column(sa.String(60), nullable=False))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    #: the first characters, so the user can tell tokens apart without the secret
    prefix: str = Field(sa_column=sa.Column(sa.String(12), nullable=False))
    created_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    last_used_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    revoked_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
