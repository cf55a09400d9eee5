"""Periodic jobs for rq-scheduler, registered idempotently (the Redash pattern).

Each definition's job id is a hash of the definition, so restarting the scheduler finds its jobs already
there, a changed definition gets a new id (the old one is cancelled), and a removed one is cancelled.
Cron lines are UTC: the scheduler process runs with TZ=UTC (rq-scheduler reads cron in local time).
Periodic jobs keep their job hash for good (`result_ttl=-1`): rq-scheduler re-reads the same hash for
every run and silently drops a schedule whose hash expired, which would lose a daily job after one run.
"""

import hashlib
import json

from flask import current_app
from rq_scheduler import Scheduler

from .queues import get_redis

ID_PREFIX = "periodic-"


def periodic_jobs() -> list[dict]:
    """The table of periodic jobs: function path, cron line (UTC), queue, timeout."""
    hour, minute = _daily_time(current_app.config.get("DAILY_SYNC_AT") or "03:00")
    return [
        {"func": "activity_hub.jobs.maintenance", "cron": "* * * * *", "queue": "default", "timeout": 120,
         "result_ttl": -1},
        {"func": "activity_hub.jobs.sync.enqueue_daily_syncs", "cron": f"{minute} {hour} * * *",
         "queue": "default", "timeout": 600, "result_ttl": -1},
    ]


def _daily_time(value: str) -> tuple[int, int]:
    hour, _, minute = value.strip().partition(":")
    if not (hour.isdigit() and (minute or "0").isdigit()):
        raise ValueError(f"DAILY_SYNC_AT must be HH:MM in UTC, got {value!r}")
    hour_i, minute_i = int(hour), int(minute or 0)
    if not (0 <= hour_i < 24 and 0 <= minute_i < 60):
        raise ValueError(f"DAILY_SYNC_AT must be HH:MM in UTC, got {value!r}")
    return hour_i, minute_i


def job_id(definition: dict) -> str:
    digest = hashlib.sha1(json.dumps(definition, sort_keys=True).encode()).hexdigest()
    return ID_PREFIX + digest


def make_scheduler(interval: int = 30) -> Scheduler:
    return Scheduler(queue_name="default", connection=get_redis(), interval=interval)


def register_periodic_jobs(scheduler: Scheduler, definitions: list[dict] | None = None) -> dict:
    """Reconcile the scheduler with the table; returns counts of added, kept and removed jobs."""
    definitions = periodic_jobs() if definitions is None else definitions
    wanted = {job_id(d): d for d in definitions}
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(ID_PREFIX)}
    removed = 0
    for jid, job in existing.items():
        if jid not in wanted:
            scheduler.cancel(job)
            job.delete()
            removed += 1
    added = 0
    for jid, d in wanted.items():
        if jid in existing:
            continue
        scheduler.cron(
            d["cron"], func=d["func"], id=jid, queue_name=d["queue"], timeout=d["timeout"],
            result_ttl=d.get("result_ttl", -1), use_local_timezone=False,
        )
        added += 1
    return {"added": added, "kept": len(wanted) - added, "removed": removed}
