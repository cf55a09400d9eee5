"""Local days: today in a user's time zone, and re-bucketing activities when that time zone changes."""

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import bindparam, select, update

from ..extensions import db
from ..models import Activity, User

BATCH = 2000


def zone(tz_name: str | None) -> ZoneInfo:
    """The user's zone; an unknown or empty name falls back to UTC rather than failing a page."""
    try:
        return ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_today(tz_name: str | None) -> date:
    return datetime.now(zone(tz_name)).date()


def timezone_changed(user: User) -> int:
    """Move every activity that has an instant to its local day; returns how many days of activity moved.

    A day counts once however many of its activities moved off it. GitHub's day rows are rebuilt from raw
    events by hooks in `app.extensions["timezone_hooks"]`: each hook takes the user and returns the number
    of days it changed, or the set of those dates (sets are merged with this function's, so a day counts once).
    """
    changed_days = _rebucket_instants(user)
    db.session.flush()
    extra = 0
    for hook in current_app.extensions.get("timezone_hooks", []):
        result = hook(user)
        if isinstance(result, int):
            extra += result
        elif isinstance(result, Iterable):
            changed_days |= set(result)
    db.session.commit()
    return len(changed_days) + extra


def _rebucket_instants(user: User) -> set[date]:
    """Recompute `date` from `occurred_at`; only rows whose day moves are written. Returns the days they left."""
    tz = zone(user.timezone)
    changed_days: set[date] = set()
    moves: list[dict] = []
    stmt = (select(Activity.id, Activity.occurred_at, Activity.date)
            .where(Activity.user_id == user.id, Activity.occurred_at.is_not(None), Activity.source != "github")
            .order_by(Activity.id))
    for row_id, instant, old_day in db.session.execute(stmt).all():
        new_day = instant.astimezone(tz).date()
        if new_day != old_day:
            changed_days.add(old_day)
            moves.append({"row_id": row_id, "new_day": new_day})
    table = Activity.__table__
    move_one = update(table).where(table.c.id == bindparam("row_id")).values(date=bindparam("new_day"))
    for i in range(0, len(moves), BATCH):
        db.session.execute(move_one, moves[i:i + BATCH])
    return changed_days
