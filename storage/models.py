"""The tables. Plain rows without ORM relationships: every read is an explicit query, so
nothing can lazy-load behind an async session's back.

Rows imported from the OKR file are archived, never deleted, when the file drops them
(`okrs import --prune`), so that history keeps pointing at them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Float, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _ts(nullable: bool = True) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


class Organization(SQLModel, table=True):
    """The one row of organisation-wide settings from the OKR file."""

    __tablename__ = "organization"

    id: int = Field(default=1, primary_key=True)
    name: str
    period: str
    timezone: str
    locale: str
    exec_channel: str | None = None
    checkin: dict | None = _json()
    digest: dict | None = _json()
    imported_at: datetime | None = _ts()


class Person(SQLModel, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(unique=True, index=True)
    name: str
    email: str | None = Field(default=None, index=True)
    slack_id: str | None = Field(default=None, index=True)
    teams_aad_id: str | None = Field(default=None, index=True)
    timezone: str | None = None
    locale: str | None = None
    role: str = "member"
    away_until: date | None = None
    position: int = 0
    archived: bool = False


class Team(SQLModel, table=True):
    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    parent_id: int | None = Field(default=None, foreign_key="team.id")
    channel: str | None = None
    checkin: dict | None = _json()
    digest: dict | None = _json()
    position: int = 0
    archived: bool = False


class TeamMember(SQLModel, table=True):
    """A person's place in a team: `lead` or `member` (a person may be both)."""

    __tablename__ = "team_member"
    __table_args__ = (UniqueConstraint("team_id", "person_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str
    position: int = 0


class Objective(SQLModel, table=True):
    __tablename__ = "objective"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    title: str
    period: str | None = None  # as written in the file; None = the organisation's default
    period_start: date
    period_end: date
    aligned_to_id: int | None = Field(default=None, foreign_key="objective.id", index=True)
    focus: list | None = _json()
    position: int = 0
    archived: bool = False


class KeyResult(SQLModel, table=True):
    __tablename__ = "key_result"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    objective_id: int = Field(foreign_key="objective.id", index=True)
    title: str
    type: str = "metric"
    unit: str | None = None
    start: float | None = Field(default=None, sa_type=Float)
    target: float | None = Field(default=None, sa_type=Float)
    min: float | None = Field(default=None, sa_type=Float)
    max: float | None = Field(default=None, sa_type=Float)
    current: float | None = Field(default=None, sa_type=Float)
    # the `current` of the OKR file at the last import: a re-import applies the file's value
    # only when it differs from this one (a deliberate edit), never over check-ins otherwise
    file_current: float | None = Field(default=None, sa_type=Float)
    owner_id: int = Field(foreign_key="person.id", index=True)
    weight: float = Field(default=1.0, sa_type=Float)
    position: int = 0
    archived: bool = False
    # the latest update, kept here so answers need no history scan
    health: str | None = None
    confidence: float | None = Field(default=None, sa_type=Float)
    updated_at: datetime | None = _ts()
    updated_by_id: int | None = Field(default=None, foreign_key="person.id")
    updated_source: str | None = None


class RawReply(SQLModel, table=True):
    """The inbox: every message a member sends, stored before it is parsed."""

    __tablename__ = "raw_reply"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    platform: str
    platform_user_id: str | None = None
    external_id: str | None = None  # the platform's event / activity id, for de-duplication
    text: str = Field(sa_type=Text)
    received_at: datetime = _ts(nullable=False)
    status: str | None = None
    result: dict | None = _json()


class KeyResultUpdate(SQLModel, table=True):
    """Append-only history of key-result values."""

    __tablename__ = "key_result_update"
    __table_args__ = (Index("ix_key_result_update_kr_time", "key_result_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key_result_id: int = Field(foreign_key="key_result.id")
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    created_at: datetime = _ts(nullable=False)
    old_value: float | None = Field(default=None, sa_type=Float)
    new_value: float | None = Field(default=None, sa_type=Float)
    health: str | None = None
    confidence: float | None = Field(default=None, sa_type=Float)
    comment: str | None = Field(default=None, sa_type=Text)
    source: str  # dm | button | form | command | api | import
    raw_reply_id: int | None = Field(default=None, foreign_key="raw_reply.id")
    # the rows of one answer share a batch, so that Undo can restore exactly them
    batch_id: str | None = Field(default=None, index=True)
    undoes_batch: str | None = Field(default=None, index=True)
    old_health: str | None = None
    old_confidence: float | None = Field(default=None, sa_type=Float)


# A check-in round's status (one home): pending until the member answers; then done (values
# given), no_change or skipped, each of which completes the round
ROUND_PENDING, ROUND_DONE, ROUND_NO_CHANGE, ROUND_SKIPPED = (
    "pending",
    "done",
    "no_change",
    "skipped",
)
ROUND_COMPLETED = (ROUND_DONE, ROUND_NO_CHANGE, ROUND_SKIPPED)
# An outbox row's state (one home): pending or sending until it is sent or failed for good
OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_SENT, OUTBOX_FAILED = "pending", "sending", "sent", "failed"
OUTBOX_STATES = (OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_SENT, OUTBOX_FAILED)
OUTBOX_FINISHED = (OUTBOX_SENT, OUTBOX_FAILED)


class CheckinRound(SQLModel, table=True):
    """One member's check-in for one period (ISO week in their time zone, e.g. 2026-W47)."""

    __tablename__ = "checkin_round"
    __table_args__ = (UniqueConstraint("person_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    period: str
    status: str = "pending"  # pending | done | no_change | skipped
    prompted_at: datetime | None = _ts()
    reminded_at: datetime | None = _ts()
    completed_at: datetime | None = _ts()


class Outbox(SQLModel, table=True):
    """A message that must be delivered exactly once, written before delivery."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("kind", "target", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # prompt | reminder | team_digest | exec_digest
    target: str  # a person handle, or a team slug for digests ("exec" for the exec digest)
    period: str
    payload: dict | None = _json()
    state: str = Field(default="pending", index=True)  # pending | sending | sent | failed
    platform: str | None = None  # where it went (or goes): slack | teams
    # a worker's claim: rows are taken with a conditional update (and SKIP LOCKED on
    # PostgreSQL), so two workers never hold the same row
    claimed_by: str | None = None
    # the last attempt's outcome is unknown (a 5xx, a lost connection, or the worker died while
    # sending): the platform may have the message already, so reconcile before sending again
    uncertain: bool = False
    attempts: int = 0
    next_attempt_at: datetime | None = _ts()
    lease_until: datetime | None = _ts()
    last_error: str | None = Field(default=None, sa_type=Text)
    result: dict | None = _json()
    created_at: datetime = _ts(nullable=False)
    sent_at: datetime | None = _ts()


class Chart(SQLModel, table=True):
    """A digest chart (PNG), served at `/charts/<id>.png` for Teams cards."""

    __tablename__ = "chart"

    id: str = Field(primary_key=True)  # random, unguessable
    png: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _ts(nullable=False)


class ConversationReference(SQLModel, table=True):
    """Where the bot can reach a person or channel later (e.g. a serialized Teams reference)."""

    __tablename__ = "conversation_reference"
    __table_args__ = (UniqueConstraint("platform", "conversation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    conversation_id: str
    conversation_type: str | None = None  # personal | channel | groupChat
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    tenant_id: str | None = None
    reference: dict = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts(nullable=False)


class SeenRequest(SQLModel, table=True):
    """A signed platform request already taken (its signature's digest), kept for as long as
    its timestamp is accepted: a replay of it inside that window is answered, never applied."""

    __tablename__ = "seen_request"

    key: str = Field(primary_key=True)
    seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class SendPace(SQLModel, table=True):
    """The pace learned for one platform scope (a Slack workspace, a Teams tenant), shared by
    every process on this database so that together they stay within the platform's limit:
    the rate, and the token bucket and recent outcomes it is decided from
    (`adapters.pace_policy`)."""

    __tablename__ = "send_pace"

    scope: str = Field(primary_key=True)  # "slack:T0123", "teams:<tenant id>"
    rate: float = Field(sa_type=Float)  # messages per second, as last decided
    state: dict = Field(sa_column=Column(JSON, nullable=False))
    version: int = 0  # every change is conditional on the version read (compare and set)
    updated_at: datetime = _ts(nullable=False)
