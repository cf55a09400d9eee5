"""RQ job functions: thin, taking ids, run inside the worker's app context."""

import logging

from ..extensions import db
from ..queues import QUEUE_NAMES, get_queue

log = logging.getLogger(__name__)


def maintenance() -> dict:
    """Every minute: notice abandoned jobs (killed workers) and settle sync runs that lost their job.

    `get_job_count()` runs RQ's StartedJobRegistry cleanup, which retries or fails abandoned jobs (their
    failure callback updates the ledger); `recover_stale_runs` then fails runs whose job is gone.
    """
    from ..services.sync_recovery import recover_stale_runs

    counts = {}
    for name in QUEUE_NAMES:
        counts[name] = get_queue(name).started_job_registry.get_job_count()
    try:
        counts["recovered_runs"] = recover_stale_runs()
    finally:
        db.session.remove()
    if counts["recovered_runs"]:
        log.warning("maintenance: %s stale sync run(s) marked failed", counts["recovered_runs"])
    return counts
