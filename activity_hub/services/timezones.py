"""Re-bucketing activities into local days when a user's time zone changes."""

from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Activity, User


def local_date(instant, tz_name: str):
    return instant.astimezone(ZoneInfo(tz_name)).date()


def timezone_changed(user: User) -> int:
    """Move every activity that has an instant to its local day; returns how many rows changed day.

    Sources that aggregate per day from raw data (GitHub) register a recompute hook in
    `app.extensions["timezone_hooks"]`; each returns how many days it changed.
    """
    changed = 0
    rows = db.session.scalars(
        select(Activity).where(
            Activity.user_id == user.id, Activity.occurred_at.is_not(None), Activity.source != "github"
        )
    )
    for activity in rows:
        day = local_date(activity.occurred_at, user.timezone)
        if day != activity.date:
            activity.date = day
            changed += 1
    db.session.commit()
    for hook in current_app.extensions.get("timezone_hooks", []):
        changed += hook(user)
    return changed
