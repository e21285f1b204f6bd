"""Tables of the progress store (SQLAlchemy Core) and time helpers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["metadata", "trainees", "attempts", "events"]

metadata = MetaData()

trainees = Table(
    "trainees",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("display_name", String(256)),
    Column("cohort", String(128)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trainee_id", Integer, ForeignKey("trainees.id"), nullable=False),
    Column("exercise_id", String(128), nullable=False),
    Column("exercise_version", Integer, nullable=False, default=1),
    Column("lang", String(8)),
    Column("protocol_json", JSON, nullable=False),
    Column("geometry_json", JSON),
    Column("score", Float, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("objectives_json", JSON, nullable=False),
    Column("error", Text),
    Column("started_at", DateTime(timezone=True)),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("time_on_task_s", Float),
    Index("ix_attempts_trainee_exercise", "trainee_id", "exercise_id"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trainee_id", Integer, ForeignKey("trainees.id"), nullable=False),
    Column("exercise_id", String(128)),
    Column("kind", String(64), nullable=False),
    Column("payload_json", JSON),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_events_trainee_kind", "trainee_id", "kind"),
)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
