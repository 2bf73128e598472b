"""The reminder policy, the outbox every email passes through, and the state of the send queue."""
import enum
from datetime import date, datetime, time
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime


def _enum(cls):
    return sa.Enum(cls, native_enum=False, length=32, validate_strings=True)


class ReminderPolicy(SQLModel, table=True):
    """When units are reminded and chased; one row, edited by the office. Defaults per issue 5."""

    __tablename__ = "reminder_policies"

    id: Optional[int] = Field(default=None, primary_key=True)
    is_enabled: bool = Field(default=True)
    #: 督办提醒 this many working days before the due date …
    remind_before_working_days: int = Field(default=3)
    #: … and on the due date itself
    remind_on_due_date: bool = Field(default=True)
    #: 催办 after the due date: the first working day late, then every N working days
    chase_every_working_days: int = Field(default=2)
    #: from this many working days late, each task's lead unit is copied
    copy_lead_after_working_days: int = Field(default=3)
    #: from this many working days late, the office and the coordinating units are copied
    copy_office_after_working_days: int = Field(default=5)
    #: sending happens on working days inside this Beijing window
    send_window_start: time = Field(default=time(8, 30))
    send_window_end: time = Field(default=time(17, 30))
    #: a message still failing this many working days after its first attempt is a dead letter
    dead_after_working_days: int = Field(default=3)
    updated_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    updated_by_id: Optional[int] = Field(default=None, foreign_key="users.id")


class MessageStatus(str, enum.Enum):
    pending = "pending"
    sending = "sending"        #: claimed by a sender until its lease ends
    sent = "sent"
    failed = "failed"          #: permanent: every recipient refused, or nobody to send to
    dead = "dead"              #: kept failing past the limit; the office may resend
    cancelled = "cancelled"    #: no longer due when its turn came (reported, or no longer a working day)

    @property
    def label(self) -> str:
        return {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败",
                "dead": "多次失败（死信）", "cancelled": "已取消"}[self.value]


class OutboxMessage(SQLModel, table=True):
    """An email decided in the same transaction as the state that caused it; senders claim it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_status_next_attempt_dt", "status", "next_attempt_dt"),
                      sa.Index("ix_outbox_messages_unit_id_business_date", "unit_id", "business_date"))

    id: Optional[int] = Field(default=None, primary_key=True)
    #: "digest:<unit_id>:<business date>": a unit gets at most one reminder email per working day
    idempotency_key: str = Field(sa_column=sa.Column(sa.String(120), nullable=False, unique=True))
    kind: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    unit_id: Optional[int] = Field(default=None, foreign_key="units.id")
    business_date: date
    subject: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    body_text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    body_html: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    recipients: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    #: recipients still to deliver to (a 4xx for one address retries only that address)
    pending_recipients: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    #: per recipient, the server's last answer: {"a@x.cn": "250 OK", "b@x.cn": "550 no such user"}
    recipient_results: dict = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    #: the assignments the message is about; if none is still owed when it is sent, it is cancelled
    assignment_ids: list[int] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    message_id: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    status: MessageStatus = Field(default=MessageStatus.pending,
                                  sa_column=sa.Column(_enum(MessageStatus), nullable=False))
    attempts: int = Field(default=0)
    created_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    next_attempt_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    first_attempt_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    sent_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    claimed_by: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(120)))
    lease_until: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: the last SMTP answer or error, as the office reads it
    last_error: Optional[str] = Field(default=None, sa_column=sa.Column(sa.Text))
    #: "smtp" or "mailbox" (no server configured: written to the instance mailbox folder)
    transport: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(20)))


class MailQueueState(SQLModel, table=True):
    """Whether sending is paused (an SMTP 535 means our credentials are wrong: retrying only locks us out)."""

    __tablename__ = "mail_queue_state"

    id: Optional[int] = Field(default=None, primary_key=True)
    is_paused: bool = Field(default=False)
    reason: Optional[str] = Field(default=None, sa_column=sa.Column(sa.Text))
    changed_dt: Optional[datetime] = Field(default=None, sa_column=sa.Column(UTCDateTime))
