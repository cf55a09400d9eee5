"""Connections to providers and the ledger of their sync runs."""

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

INTEGRATION_STATUSES = ("connected", "queued", "syncing", "ok", "error", "needs_reauth")
RUN_STATUSES = ("queued", "running", "waiting", "succeeded", "failed")
ACTIVE_RUN_STATUSES = ("queued", "running", "waiting")  # a run that is not over yet
RUN_TRIGGERS = ("manual", "scheduled", "connect")


class Integration(db.Model):
    """One per user and provider. Credentials are Fernet tokens, never plain text."""

    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="connected")
    account_name: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(String(100))
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    secret_tail: Mapped[str | None] = mapped_column(String(8))
    base_url: Mapped[str | None] = mapped_column(String(500))
    cursor: Mapped[dict | None] = mapped_column(JSON)
    settings: Mapped[dict | None] = mapped_column(JSON)
    last_sync_at = mapped_column(UTCDateTime)
    last_success_at = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user = relationship("User", back_populates="integrations")
    runs = relationship(
        "SyncRun", back_populates="integration", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SyncRun.id.desc()", lazy="dynamic",
    )


class SyncRun(db.Model):
    """The ledger of every sync: what the UI reads to tell the user what is happening."""

    __tablename__ = "sync_runs"
    # The badge polls "the newest run of this connection": (integration_id, id) answers it from the index.
    __table_args__ = (Index("ix_sync_runs_integration_id_id", "integration_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    progress_unit: Mapped[str] = mapped_column(String(16), default="pages")
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    waiting_until = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    started_at = mapped_column(UTCDateTime)
    heartbeat_at = mapped_column(UTCDateTime)
    finished_at = mapped_column(UTCDateTime)

    integration = relationship("Integration", back_populates="runs")

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES
