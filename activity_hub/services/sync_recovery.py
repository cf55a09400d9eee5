"""Keeping the sync ledger true when jobs go wrong, and the daily fan-out.

* A worker killed mid-run: RQ notices the abandoned job (the maintenance job runs its registry cleanup
  every minute) and retries it once from the start; `job_failed`, the failure callback, keeps the ledger
  in step, and `recover_stale_runs` fails any run whose job is gone, so nothing stays "running".
* `enqueue_daily_syncs` queues one sync per connection; one connection that cannot be queued is counted
  and logged, never a reason to skip the ones after it.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Integration, SyncRun
from ..providers import PROVIDERS
from .sync import (
    ACTIVE,
    FINISHED,
    _age,
    _finish_failed,
    _job_state,
    active_run,
    now_utc,
    request_sync,
    timeout_message,
)

log = logging.getLogger(__name__)


def job_failed(run_id: int, retries_left: int | None, timed_out: bool = False) -> None:
    """RQ failure callback (also for abandoned jobs): re-queued runs say so, final failures are recorded."""
    run = db.session.get(SyncRun, run_id)
    if run is None or run.status in FINISHED:
        return
    if retries_left:
        why = "The sync timed out" if timed_out else "The worker stopped during the sync"
        run.status, run.message = "queued", f"{why}; it starts again."
        db.session.commit()
        return
    _finish_failed(run, run.integration, timeout_message() if timed_out else
                   "The worker running this sync stopped unexpectedly (it was restarted or ran out of memory). Try again.")


def recover_stale_runs() -> int:
    """Fail active runs whose job is gone (or whose worker fell silent for too long); returns how many."""
    config = current_app.config
    grace = timedelta(seconds=config.get("SYNC_STALE_AFTER", 120))
    silent = timedelta(seconds=config.get("SYNC_JOB_TIMEOUT", 900)) + grace
    recovered = 0
    for run in db.session.scalars(select(SyncRun).where(SyncRun.status.in_(ACTIVE))).all():
        state, age = _job_state(run), _age(run)
        if state == "gone" and age > grace:
            _finish_failed(run, run.integration, "The sync was lost: its job disappeared from the queue. Try again.")
        elif state == "alive" and run.status == "running" and age > silent:
            _finish_failed(run, run.integration, "The worker running this sync stopped answering. Try again.")
        elif state == "alive" and run.status == "waiting" and run.waiting_until and now_utc() - run.waiting_until > grace * 5:
            _finish_failed(run, run.integration, "The sync was due to resume but no worker picked it up "
                           "(workers must run with their scheduler, as `python worker.py` does). Try again.")
        else:
            continue
        recovered += 1
    return recovered


def enqueue_daily_syncs() -> dict:
    """The daily fan-out: one sync per connection that can sync; active ones are left alone.

    A connection that cannot be queued (Redis hiccup, a job still finishing, a bug) is counted as
    `failed` and logged by id and error type only; the fan-out goes on with the next one.
    """
    counts = {"queued": 0, "already": 0, "skipped": 0, "failed": 0}
    targets = db.session.execute(select(Integration.id, Integration.provider, Integration.status)
                                 .order_by(Integration.id)).all()
    for integration_id, provider, status in targets:
        if provider not in PROVIDERS or status == "needs_reauth":
            counts["skipped"] += 1
            continue
        try:
            integration = db.session.get(Integration, integration_id)
            if integration is None:  # disconnected while the fan-out ran
                continue
            before = active_run(integration_id)
            run = request_sync(integration, trigger="scheduled")
            counts["already" if before is not None and before.id == run.id else "queued"] += 1
        except Exception as exc:  # noqa: BLE001  one connection never stops the others
            db.session.rollback()
            counts["failed"] += 1
            log.warning("daily sync of integration %s not queued: %s", integration_id, type(exc).__name__)
    return counts
