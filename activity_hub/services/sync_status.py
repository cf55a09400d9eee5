"""What the Connect page shows (each source's connection, badge state and recent runs) and Disconnect.

The badge is polled every two seconds by every open Connect page, so `badge_for` is one indexed query
(the connection joined with its newest run) and the template is a cached file.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, bindparam, delete, func, select

from ..extensions import db
from ..models import Activity, GitHubEvent, Integration, SyncRun, User
from ..providers import SOURCES, is_registered
from ..queues import RedisError, get_redis
from .sync import ACTIVE, job_id_for

RUNS_SHOWN = 5


@dataclass
class Badge:
    """One state of a source's badge; `polling` while a run is queued, running or waiting."""

    slug: str
    name: str
    state: str  # not_connected, idle, queued, syncing, waiting, synced, failed, needs_reauth
    integration: Integration | None = None
    run: SyncRun | None = None
    until: str = ""  # waiting: local HH:MM
    ago: str = ""  # synced: "3 minutes ago"

    @property
    def polling(self) -> bool:
        return self.state in ("queued", "syncing", "waiting")  # the badge names of the ACTIVE run statuses


def connection_and_latest_run(user_id: int, slug: str) -> tuple[Integration | None, SyncRun | None]:
    """The user's connection to `slug` and its newest run, in one query."""
    row = db.session.execute(
        select(Integration, SyncRun)
        .outerjoin(SyncRun, SyncRun.integration_id == Integration.id)
        .where(Integration.user_id == user_id, Integration.provider == slug)
        .order_by(SyncRun.id.desc().nulls_last()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def badge_for(user, slug: str, now: datetime | None = None) -> Badge:
    integration, run = connection_and_latest_run(user.id, slug)
    return badge_from(user, slug, integration, run, now)


_RUN_COLUMNS = ("status", "progress_done", "progress_total", "progress_unit", "new", "error", "message",
                "waiting_until", "created_at", "finished_at")


def _polled_badge_query():
    """Built once: the user, their connection to :slug and its newest run (via the (integration_id, id) index)."""
    newest = SyncRun.__table__.alias("newest")
    latest = (select(func.max(newest.c.id)).where(newest.c.integration_id == Integration.id)
              .correlate(Integration).scalar_subquery())
    return (
        select(User.timezone, Integration.id.label("integration_id"), Integration.status.label("integration_status"),
               Integration.last_error.label("integration_error"), SyncRun.id.label("run_id"),
               *[getattr(SyncRun, c).label(f"run_{c}") for c in _RUN_COLUMNS])
        .select_from(User)
        .outerjoin(Integration, and_(Integration.user_id == User.id, Integration.provider == bindparam("slug")))
        .outerjoin(SyncRun, SyncRun.id == latest)
        .where(User.id == bindparam("user_id"), User.session_token == bindparam("token"))
    )


_POLLED_BADGE_QUERY = None


def polled_badge(user_id: int, token: str, slug: str, now: datetime | None = None) -> Badge | None:
    """The badge for the polling endpoint in one Core query; None when the user or session token is gone."""
    global _POLLED_BADGE_QUERY
    if _POLLED_BADGE_QUERY is None:
        _POLLED_BADGE_QUERY = _polled_badge_query()
    with db.engine.connect() as conn:  # a plain read: no ORM session work
        row = conn.execute(_POLLED_BADGE_QUERY, {"user_id": user_id, "token": token, "slug": slug}).first()
    if row is None:
        return None
    user = SimpleNamespace(timezone=row.timezone)
    integration = (SimpleNamespace(id=row.integration_id, status=row.integration_status, last_error=row.integration_error)
                   if row.integration_id is not None else None)
    run = None
    if row.run_id is not None:
        run = SimpleNamespace(id=row.run_id, **{c: getattr(row, f"run_{c}") for c in _RUN_COLUMNS})
        run.active = run.status in ACTIVE
    return badge_from(user, slug, integration, run, now)


def badge_from(user, slug: str, integration, run, now: datetime | None = None) -> Badge:
    badge = Badge(slug=slug, name=SOURCES[slug].name, state="not_connected", integration=integration, run=run)
    if integration is None:
        return badge
    if integration.status == "needs_reauth" and not (run and run.active):
        badge.state = "needs_reauth"
    elif run is None:
        badge.state = "idle"
    elif run.status == "running":
        badge.state = "syncing"
    elif run.status in ("queued", "waiting"):
        badge.state = run.status
        if run.waiting_until:
            badge.until = local_time(run.waiting_until, user.timezone)
    elif run.status == "failed":
        badge.state = "failed"
    else:
        badge.state = "synced"
        badge.ago = time_ago(run.finished_at or run.created_at, now)
    return badge


def recent_runs(integration_id: int, limit: int = RUNS_SHOWN) -> list[SyncRun]:
    return list(db.session.scalars(
        select(SyncRun).where(SyncRun.integration_id == integration_id).order_by(SyncRun.id.desc()).limit(limit)
    ))


def cards_for(user) -> list[dict]:
    """One card per source in catalogue order: its info, connection, badge and recent runs.

    Three queries however many sources are connected: connections, their newest runs, activity counts.
    """
    integrations = {
        i.provider: i for i in db.session.scalars(select(Integration).where(Integration.user_id == user.id))
    }
    runs = _recent_runs_of([i.id for i in integrations.values()])
    counts = _activity_counts(user.id) if integrations else {}
    cards = []
    for slug, info in SOURCES.items():
        integration = integrations.get(slug)
        recent = runs.get(integration.id, []) if integration else []
        badge = badge_from(user, slug, integration, recent[0] if recent else None)
        cards.append({"info": info, "registered": is_registered(slug), "integration": integration,
                      "badge": badge, "runs": recent, "activity_count": counts.get(slug, 0) if integration else 0})
    return cards


def _recent_runs_of(integration_ids: list[int], limit: int = RUNS_SHOWN) -> dict[int, list[SyncRun]]:
    """The newest `limit` runs of each connection, newest first, in one query."""
    if not integration_ids:
        return {}
    ranked = select(SyncRun.id, func.row_number().over(
        partition_by=SyncRun.integration_id, order_by=SyncRun.id.desc()).label("rank")
    ).where(SyncRun.integration_id.in_(integration_ids)).subquery()
    found: dict[int, list[SyncRun]] = {}
    for run in db.session.scalars(select(SyncRun).join(ranked, ranked.c.id == SyncRun.id)
                                  .where(ranked.c.rank <= limit).order_by(SyncRun.integration_id, SyncRun.id.desc())):
        found.setdefault(run.integration_id, []).append(run)
    return found


def workers_running(max_age: float = 0.0) -> int | None:
    """How many RQ workers are alive (None without Redis); with `max_age`, a recent answer is reused."""
    from rq import Worker

    cached = current_app.extensions.get("sync_worker_check")
    now = time.monotonic()
    if max_age and cached and now - cached[0] < max_age:
        return cached[1]
    try:
        count = Worker.count(connection=get_redis())
    except (RedisError, OSError):
        count = None
    current_app.extensions["sync_worker_check"] = (now, count)
    return count


def sync_available(max_age: float = 0.0) -> bool:
    """Whether Redis answers; with `max_age`, a result that recent (per app and process) is reused."""
    cached = current_app.extensions.get("sync_redis_check")
    now = time.monotonic()
    if max_age and cached and now - cached[0] < max_age:
        return cached[1]
    try:
        ok = bool(get_redis().ping())
    except (RedisError, OSError):
        ok = False
    current_app.extensions["sync_redis_check"] = (now, ok)
    return ok


def disconnect(user, slug: str, delete_activities: bool) -> int:
    """Remove the connection (and its runs); optionally its activities too. Returns activities deleted."""
    integration = db.session.scalar(
        select(Integration).where(Integration.user_id == user.id, Integration.provider == slug)
    )
    if integration is None:
        return 0
    _cancel_jobs(integration.id)
    db.session.delete(integration)
    deleted = 0
    if delete_activities:
        deleted = db.session.execute(
            delete(Activity).where(Activity.user_id == user.id, Activity.source == slug)
        ).rowcount or 0
        if slug == "github":
            db.session.execute(delete(GitHubEvent).where(GitHubEvent.user_id == user.id))
    db.session.commit()
    return deleted


def _cancel_jobs(integration_id: int) -> None:
    """Drop queued or scheduled jobs of the connection; a running one finds its run gone and stops."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    waiting = db.session.scalars(select(SyncRun.job_id).where(
        SyncRun.integration_id == integration_id, SyncRun.status.in_(ACTIVE), SyncRun.job_id.is_not(None)))
    for job_id in {job_id_for(integration_id), *waiting}:
        try:
            job = Job.fetch(job_id, connection=get_redis())
            if job.get_status(refresh=False) != "started":
                job.delete()
        except (NoSuchJobError, RedisError, OSError):  # nothing to cancel, or Redis is down
            continue


def _activity_counts(user_id: int) -> dict[str, int]:
    """How many activities the user has per source, in one query."""
    rows = db.session.execute(select(Activity.source, func.count()).where(Activity.user_id == user_id)
                              .group_by(Activity.source))
    return dict(rows.all())


def local_time(instant: datetime, tz_name: str | None, fmt: str = "%H:%M") -> str:
    return instant.astimezone(ZoneInfo(tz_name or "UTC")).strftime(fmt)


def time_ago(instant: datetime | None, now: datetime | None = None) -> str:
    if instant is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - instant).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"
