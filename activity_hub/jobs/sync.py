"""Sync jobs: thin wrappers that take ids and call the engine inside the worker's app context."""

import logging

from flask import has_app_context
from rq.timeouts import JobTimeoutException

from ..extensions import db
from ..services import sync, sync_recovery

log = logging.getLogger(__name__)


def sync_integration(run_id: int) -> str:
    """Run one queued sync (`SyncRun` id)."""
    try:
        return sync.execute_run(run_id)
    finally:
        db.session.remove()


def enqueue_daily_syncs() -> dict:
    """The daily fan-out: one sync job per active connection."""
    try:
        counts = sync_recovery.enqueue_daily_syncs()
        log.info("daily syncs: %s", counts)
        return counts
    finally:
        db.session.remove()


def sync_job_failed(job, connection, exc_type=None, exc_value=None, traceback=None) -> None:
    """RQ failure callback; also called for abandoned jobs (worker killed), before any retry."""
    if not has_app_context():  # called from a process without the app (e.g. `rq` CLI cleanup)
        from .. import create_app

        with create_app().app_context():
            return sync_job_failed(job, connection, exc_type, exc_value, traceback)
    try:
        timed_out = isinstance(exc_type, type) and issubclass(exc_type, JobTimeoutException)
        sync_recovery.job_failed(int(job.args[0]), job.retries_left, timed_out=timed_out)
    finally:
        db.session.remove()
