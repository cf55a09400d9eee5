"""People who use Activity Hub."""

import secrets

from flask_login import UserMixin
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import UTCDateTime, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    github_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    github_login: Mapped[str | None] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Part of the id kept in sessions and remember cookies: a new one signs out every other session.
    session_token: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    integrations = relationship(
        "Integration", back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def get_id(self) -> str:
        return f"{self.id}.{self.session_token}"

    def set_password(self, password: str) -> None:
        """Store the new hash and end every session that was signed in before it."""
        self.password_hash = generate_password_hash(password)
        self.session_token = secrets.token_hex(16)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def name(self) -> str:
        return self.display_name or self.github_login or (self.email or "").split("@")[0] or "you"
