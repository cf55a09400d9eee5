"""RQ job functions: thin, taking ids, run inside the worker's app context."""

import logging

from ..queues import get_queue

log = logging.getLogger(__name__)


def maintenance() -> dict:
    """Every minute: run RQ's registry cleanup so abandoned jobs (killed workers) are noticed quickly."""
    counts = {}
    for name in ("sync", "imports", "default"):
        queue = get_queue(name)
        counts[name] = queue.started_job_registry.get_job_count()  # get_job_count() runs cleanup()
    return counts

