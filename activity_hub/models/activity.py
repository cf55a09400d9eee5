"""The one history: activities from every source, plus raw GitHub events kept past GitHub's 30 days."""

from datetime import date

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

SOURCES = ("github", "wakatime", "codewars", "exercism", "csv", "manual")


class Activity(db.Model):
    """A dated amount of time on a service. `external_id` is the natural key that makes imports idempotent."""

    __tablename__ = "activities"
    __table_args__ = (
        UniqueConstraint("user_id", "source", "external_id"),
        Index("ix_activities_user_date", "user_id", "date"),
        # Covers the History page's day/service totals so they are read from the index alone.
        Index("ix_activities_user_hidden_date_service", "user_id", "hidden", "date", "service", "minutes"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(64))
    date: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    occurred_at = mapped_column(UTCDateTime)
    details: Mapped[dict | None] = mapped_column(JSON)
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), index=True
    )
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class GitHubEvent(db.Model):
    """A raw GitHub event as received; GitHub day activities are recomputed from these."""

    __tablename__ = "github_events"
    __table_args__ = (
        UniqueConstraint("user_id", "event_id"),
        Index("ix_github_events_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(64))
    repo_name: Mapped[str | None] = mapped_column(String(200))
    repo_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at = mapped_column(UTCDateTime, nullable=False)
    payload: Mapped[dict | None] = mapped_column(JSON)
