"""RQ jobs for CSV imports (queue `imports`): thin wrappers taking a batch id, plus failure callbacks.

Each job is enqueued with `Retry(max=2)`. RQ calls `on_failure` after every failed attempt, including
ones it will retry and abandoned ones (a killed worker), so the callbacks act only on the last attempt.
"""

import logging

from ..extensions import db
from ..models import ImportBatch
from ..services import csv_import

log = logging.getLogger(__name__)


def preview_batch_job(batch_id: int) -> str:
    """Validate a large upload and count what an import would do."""
    return _run(csv_import.preview_batch, batch_id)


def import_batch_job(batch_id: int) -> str:
    """Import a previewed batch; a retry completes what a failed attempt started."""
    return _run(csv_import.import_batch, batch_id)


def undo_batch_job(batch_id: int) -> str:
    """Remove the rows a batch added."""
    return _run(csv_import.undo_batch, batch_id)


def _run(step, batch_id: int) -> str:
    """Each attempt starts and ends with a clean session, so a failed attempt cannot leak into the next."""
    db.session.remove()
    try:
        batch = step(batch_id)
        return batch.status if batch else "gone"
    finally:
        db.session.remove()


def _last_attempt(job) -> bool:
    return not job.retries_left


def _batch_id(job) -> int | None:
    return job.args[0] if job.args else None


def preview_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """The last attempt to check a file failed: say so on the batch."""
    log.warning("preview job %s failed: %s", job.id, exc_type.__name__ if exc_type else "abandoned")
    if _last_attempt(job) and (batch_id := _batch_id(job)):
        _set_failed(batch_id, "rejected", "Checking this file stopped unexpectedly. Cancel it and upload it again.")


def import_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """The last import attempt failed: remove what the batch added, so the history is as it was."""
    log.warning("import job %s failed: %s", job.id, exc_type.__name__ if exc_type else "abandoned")
    if _last_attempt(job) and (batch_id := _batch_id(job)):
        csv_import.rollback_batch(
            batch_id, "The import stopped before it finished, so nothing from this file was added. Try again.",
        )


def undo_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """The last undo attempt failed (its transaction rolled back): the import stays in place."""
    log.warning("undo job %s failed: %s", job.id, exc_type.__name__ if exc_type else "abandoned")
    if _last_attempt(job) and (batch_id := _batch_id(job)):
        _set_failed(batch_id, "imported", "Undo stopped before it finished; nothing was removed. Try again.")


def _set_failed(batch_id: int, status: str, message: str) -> None:
    db.session.rollback()
    batch = db.session.get(ImportBatch, batch_id)
    if batch is not None:
        batch.status, batch.error, batch.progress_done = status, message, 0
        db.session.commit()
