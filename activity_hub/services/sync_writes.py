"""Writing one page of a sync: idempotent, and never for a run that no longer exists.

Every write transaction starts with `hold_run`, an UPDATE of the run's row. Disconnecting deletes the
run with its connection, so a page's writes either commit before the disconnect (which then deletes
them with the source's other rows) or meet a missing row and stop with `RunGone`, before writing.
"""

from datetime import UTC, datetime

from sqlalchemy import select, update

from ..extensions import db
from ..models import Integration, SyncRun, User
from ..providers.base import ActivityRecord, RawEvent
from . import activities, github_days


class RunGone(Exception):
    """The run's row is gone: its connection was disconnected while it ran."""


def write_records(user: User, source: str, records: list, before_write=None) -> activities.WriteResult:
    """Store one page: raw GitHub events (then their days are recomputed) and activity records.

    `new` counts new rows (raw events for GitHub), `updated` changed activity rows, `days` the GitHub days
    rewritten because of new events. `before_write` starts every write transaction (one per chunk).
    """
    hold = before_write or (lambda: None)
    result = activities.WriteResult()
    raw = [r for r in records if isinstance(r, RawEvent)]
    if raw:
        hold()
        created = github_days.store_events(user.id, raw)
        result.new += len(created)
        if created:  # the days those events fall on; the caller counts each day once per run
            result.days = github_days.recompute_days(user, github_days.days_of(user, created), hold).days
    acts = [r for r in records if isinstance(r, ActivityRecord)]
    for start in range(0, len(acts), activities.CHUNK):  # each call below is one transaction
        chunk = acts[start:start + activities.CHUNK]
        keep, replace = [r for r in chunk if not r.replace], [r for r in chunk if r.replace]
        if keep:
            hold()
            result.new += activities.insert_new(activities.record_rows(user.id, source, keep, user.timezone))
        if replace:
            hold()
            result += activities.upsert(activities.record_rows(user.id, source, replace, user.timezone))
    return result


def hold_run(run_id: int) -> None:
    """Lock the run's connection and run as the first statements of a write transaction; RunGone if gone.

    Both rows stay locked until the commit (the whole database on SQLite), taken in the order a
    disconnect takes them (connection, then its runs), so a disconnect waits for the page's writes and
    deletes them with the rest, or wins and no write follows.
    """
    owner = select(SyncRun.integration_id).where(SyncRun.id == run_id).scalar_subquery()
    locked = db.session.execute(update(Integration).where(Integration.id == owner)
                                .values(last_sync_at=Integration.last_sync_at).execution_options(synchronize_session=False))
    touched = db.session.execute(update(SyncRun).where(SyncRun.id == run_id).values(heartbeat_at=datetime.now(UTC))
                                 .execution_options(synchronize_session=False))
    if not (locked.rowcount and touched.rowcount):
        raise RunGone()


def run_exists(run_id: int) -> bool:
    return db.session.scalar(select(SyncRun.id).where(SyncRun.id == run_id)) is not None
