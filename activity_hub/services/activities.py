"""Idempotent bulk writes of provider records into `activities`, in chunks, on SQLite and PostgreSQL.

Rows are keyed by (user, source, external_id). `insert_new` skips keys already stored; `upsert` also
updates stored rows whose content changed. Both count with RETURNING, which works the same on both
dialects: a skipped row returns nothing. Each chunk is its own short transaction whose first statement
is a write, so concurrent SQLite writers queue on the busy timeout instead of failing.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import Activity
from ..providers.base import ActivityRecord

CHUNK = 500
MAX_MINUTES = 1440
_COMPARED = ("service", "date", "minutes", "title", "occurred_at")


@dataclass
class WriteResult:
    new: int = 0
    updated: int = 0
    days: set[date] = field(default_factory=set)  # derived day rows rewritten (GitHub), counted once per run

    def __iadd__(self, other: "WriteResult") -> "WriteResult":
        self.new += other.new
        self.updated += other.updated
        self.days |= other.days
        return self


def dialect_insert(table):
    """The `INSERT` construct with ON CONFLICT support for the engine's dialect."""
    name = db.engine.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"bulk upserts support SQLite and PostgreSQL, not {name}")


def record_rows(user_id: int, source: str, records: Iterable[ActivityRecord], tz_name: str) -> list[dict]:
    """Records as `activities` rows; the day is the local day of `occurred_at` when no date is given.

    Later records with the same external_id win, so a chunk never names one key twice.
    """
    tz = ZoneInfo(tz_name or "UTC")
    now = datetime.now(UTC)
    rows: dict[str, dict] = {}
    for rec in records:
        day = rec.date or (rec.occurred_at.astimezone(tz).date() if rec.occurred_at else None)
        if day is None:
            continue
        rows[rec.external_id] = {
            "user_id": user_id, "source": source, "external_id": rec.external_id[:200],
            "service": rec.service[:64], "date": day, "minutes": max(0, min(int(rec.minutes), MAX_MINUTES)),
            "title": (rec.title or rec.service)[:255], "occurred_at": rec.occurred_at,
            "details": rec.details, "hidden": False, "created_at": now, "updated_at": now,
        }
    return list(rows.values())


def insert_new(rows: list[dict]) -> int:
    """Insert rows whose key is not stored yet; returns how many were new."""
    new = 0
    table = Activity.__table__
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        stmt = dialect_insert(table).on_conflict_do_nothing(
            index_elements=["user_id", "source", "external_id"]
        ).returning(table.c.id)
        new += len(db.session.execute(stmt, chunk).all())
        db.session.commit()
    return new


def upsert(rows: list[dict]) -> WriteResult:
    """Insert new rows and update stored rows whose content changed; unchanged rows are not touched."""
    result = WriteResult()
    table = Activity.__table__
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        existing = _existing_ids(chunk)
        ins = dialect_insert(table)
        excluded = ins.excluded
        changed = None
        for column in _COMPARED:
            clause = table.c[column].is_distinct_from(excluded[column])
            changed = clause if changed is None else changed | clause
        changed = changed | cast(table.c.details, String).is_distinct_from(cast(excluded.details, String))
        stmt = ins.on_conflict_do_update(
            index_elements=["user_id", "source", "external_id"],
            set_={c: excluded[c] for c in (*_COMPARED, "details", "updated_at")},
            where=changed,
        ).returning(table.c.id)
        touched = [row.id for row in db.session.execute(stmt, chunk)]
        db.session.commit()
        updated = sum(1 for row_id in touched if row_id in existing)
        result += WriteResult(new=len(touched) - updated, updated=updated)
    return result


def write_records(user_id: int, source: str, records: list[ActivityRecord], tz_name: str) -> WriteResult:
    """Write a page of provider records: `replace=True` ones are upserted, the rest only inserted."""
    result = WriteResult()
    replace = [r for r in records if r.replace]
    keep = [r for r in records if not r.replace]
    if keep:
        result.new += insert_new(record_rows(user_id, source, keep, tz_name))
    if replace:
        result += upsert(record_rows(user_id, source, replace, tz_name))
    return result


def _existing_ids(chunk: list[dict]) -> set[int]:
    first = chunk[0]
    keys = [row["external_id"] for row in chunk]
    found = db.session.scalars(
        select(Activity.id).where(
            Activity.user_id == first["user_id"], Activity.source == first["source"],
            Activity.external_id.in_(keys),
        )
    )
    return set(found)
