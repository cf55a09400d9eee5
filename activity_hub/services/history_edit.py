"""Changes a person makes on the History page: manual entries, edits, deletions with undo, hiding synced rows."""

import uuid
from datetime import date, datetime

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Activity, ImportBatch, User
from .history import EDITABLE_SOURCES, SOURCE_LABELS
from .rows import RowError, validate_row
from .timezones import local_today

UNDO_SECONDS = 60 * 60


class EditError(Exception):
    """A change that cannot be made; the message says why, in words."""


def form_row(activity: Activity | None = None, today: date | None = None) -> dict:
    """The four form fields as strings, from an activity or blank with today's date."""
    if activity is None:
        return {"date": (today or date.today()).isoformat(), "service": "", "minutes": "", "title": ""}
    return {"date": activity.date.isoformat(), "service": activity.service, "minutes": str(activity.minutes),
            "title": activity.title}


def create_manual(user: User, raw: dict) -> tuple[Activity | None, list[RowError]]:
    """Validate like a CSV row and store it as a manual activity with its own unique key."""
    clean, errors = validate_row(raw, local_today(user.timezone))
    if errors:
        return None, errors
    activity = Activity(
        user_id=user.id, service=clean.service, date=clean.date, minutes=clean.minutes, title=clean.title,
        source="manual", external_id=f"manual:{uuid.uuid4().hex}", occurred_at=None, hidden=False,
    )
    db.session.add(activity)
    db.session.commit()
    return activity, []


def update_activity(user: User, activity: Activity, raw: dict) -> list[RowError]:
    """Change a manual or CSV activity; synced ones come from their source and can only be hidden."""
    _must_be_editable(activity)
    clean, errors = validate_row(raw, local_today(user.timezone))
    if errors:
        return errors
    activity.date, activity.service = clean.date, clean.service
    activity.minutes, activity.title = clean.minutes, clean.title
    db.session.commit()
    return []


def delete_activity(activity: Activity) -> str:
    """Delete a manual or CSV activity; returns a signed token that brings it back for an hour."""
    _must_be_editable(activity)
    snapshot = {
        "user_id": activity.user_id, "service": activity.service, "date": activity.date.isoformat(),
        "minutes": activity.minutes, "title": activity.title, "source": activity.source,
        "external_id": activity.external_id, "details": activity.details,
        "import_batch_id": activity.import_batch_id,
        "occurred_at": activity.occurred_at.isoformat() if activity.occurred_at else None,
    }
    db.session.delete(activity)
    db.session.commit()
    return _serializer().dumps(snapshot)


def restore_activity(user: User, token: str) -> Activity:
    """Undo a deletion from its token; only the owner's token works, and only once."""
    try:
        snapshot = _serializer().loads(token, max_age=UNDO_SECONDS)
    except SignatureExpired as exc:
        raise EditError("That undo has expired (undo works for an hour after deleting).") from exc
    except BadSignature as exc:
        raise EditError("That undo link is not valid.") from exc
    if snapshot.get("user_id") != user.id:
        raise EditError("That undo link is not valid.")
    taken = db.session.scalar(select(Activity.id).where(
        Activity.user_id == user.id, Activity.source == snapshot["source"],
        Activity.external_id == snapshot["external_id"]))
    if taken is not None:
        raise EditError("That activity is already back in your history.")
    batch_id = snapshot.get("import_batch_id")
    if batch_id is not None and db.session.get(ImportBatch, batch_id) is None:
        batch_id = None
    activity = Activity(
        user_id=user.id, service=snapshot["service"], date=date.fromisoformat(snapshot["date"]),
        minutes=snapshot["minutes"], title=snapshot["title"], source=snapshot["source"],
        external_id=snapshot["external_id"], details=snapshot.get("details"), import_batch_id=batch_id,
        occurred_at=datetime.fromisoformat(snapshot["occurred_at"]) if snapshot.get("occurred_at") else None,
        hidden=False,
    )
    db.session.add(activity)
    try:
        db.session.commit()
    except IntegrityError as exc:  # a second undo won the race
        db.session.rollback()
        raise EditError("That activity is already back in your history.") from exc
    return activity


def set_hidden(activity: Activity, hidden: bool) -> None:
    """Hide an activity from totals and charts (or show it again); a later sync keeps it as it is."""
    activity.hidden = hidden
    db.session.commit()


def describe(activity: Activity) -> str:
    """“45 min of duolingo on 2025-03-14” for flash messages."""
    return f"{activity.minutes} min of {activity.service} on {activity.date.isoformat()}"


def _must_be_editable(activity: Activity) -> None:
    if activity.source not in EDITABLE_SOURCES:
        label = SOURCE_LABELS.get(activity.source, activity.source)
        raise EditError(f"This activity comes from {label} and would come back with the next sync, "
                        "so it cannot be edited or deleted. Hide it instead.")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="history-undo")
