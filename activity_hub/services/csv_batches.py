"""A user's import batches as the Upload page sees them: store an upload, start each step, list, discard,
and the two CSV downloads (the template and a batch's invalid rows)."""

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from typing import BinaryIO

from flask import current_app
from rq import Callback, Retry
from rq.job import Job
from sqlalchemy import delete, func, select, update

from ..extensions import db
from ..models import ImportBatch, User
from ..queues import RedisError, get_queue, get_redis
from .csv_import import preview_batch, rollback_batch, scan, user_today
from .csv_parse import CsvFileError
from .rows import COLUMN_NAMES, EXAMPLE_ROWS, neutralise
from .timezones import zone

INLINE_MAX_BYTES = 1024 * 1024
JOB_TIMEOUT = 60 * 60
NUMBER_RE = re.compile(r"[+-]?\d+(\.\d+)?")


class QueueUnavailable(RuntimeError):
    """The job queue (Redis) did not answer, so a background step could not start."""


def template_csv() -> str:
    """The downloadable template, generated from the same column list the parser reads."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    writer.writerows(EXAMPLE_ROWS)
    return buf.getvalue()


def store_upload(user_id: int, filename: str, stream: BinaryIO) -> ImportBatch:
    """Keep the uploaded file with a new batch (workers on other hosts read it from there)."""
    content = stream.read()
    batch = ImportBatch(
        user_id=user_id, filename=_clean_filename(filename), file_hash=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content), content=content, status="uploaded",
    )
    db.session.add(batch)
    db.session.commit()
    return batch


def inline_limit() -> int:
    return int(current_app.config.get("CSV_INLINE_MAX_BYTES") or INLINE_MAX_BYTES)


def check_upload(batch: ImportBatch) -> ImportBatch:
    """Small files are checked at once; larger ones by a worker job (the page shows its progress)."""
    if batch.size_bytes <= inline_limit():
        return preview_batch(batch.id)
    from ..jobs.imports import preview_batch_job, preview_failed

    _enqueue(batch, preview_batch_job, preview_failed, from_status="uploaded", to_status="uploaded")
    return batch


def start_import(batch: ImportBatch) -> bool:
    """Queue the import of a previewed (or failed) batch; False if it was not in a state to start."""
    from ..jobs.imports import import_batch_job, import_failed

    return _enqueue(batch, import_batch_job, import_failed, from_status=("previewed", "failed"), to_status="queued")


def start_undo(batch: ImportBatch) -> bool:
    """Queue the undo of an imported batch; False if it was not imported."""
    from ..jobs.imports import undo_batch_job, undo_failed

    return _enqueue(batch, undo_batch_job, undo_failed, from_status="imported", to_status="undoing")


def _enqueue(batch: ImportBatch, func, on_failure, from_status, to_status: str) -> bool:
    """Move the batch to `to_status` only if it is still in `from_status` (a double click starts one job)."""
    allowed = (from_status,) if isinstance(from_status, str) else from_status
    previous = batch.status
    if previous not in allowed:
        return False
    moved = db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch.id, ImportBatch.status == previous)
        .values(status=to_status, progress_done=0, error=None, job_id=None)
    ).rowcount
    db.session.commit()
    if not moved:
        return False
    try:
        job = get_queue("imports").enqueue(
            func, batch.id, retry=Retry(max=2), job_timeout=JOB_TIMEOUT, result_ttl=3600,
            failure_ttl=7 * 24 * 3600, on_failure=Callback(on_failure),
        )
    except (RedisError, OSError) as exc:
        db.session.execute(update(ImportBatch).where(ImportBatch.id == batch.id).values(status=previous))
        db.session.commit()
        raise QueueUnavailable("The background worker queue is not reachable right now. Try again in a minute.") from exc
    db.session.execute(update(ImportBatch).where(ImportBatch.id == batch.id).values(job_id=job.id))
    db.session.commit()
    db.session.refresh(batch)
    return True


LOST_MESSAGES = {
    "uploaded": ("rejected", "Checking this file was lost (the job queue restarted). Cancel it and upload it again."),
    "validating": ("rejected", "Checking this file was lost (the job queue restarted). Cancel it and upload it again."),
    "queued": ("failed", "The import was lost before it finished (the job queue restarted). Nothing from this file "
                         "was added. Try again."),
    "importing": ("failed", "The import was lost before it finished (the job queue restarted). Nothing from this "
                            "file was added. Try again."),
    "undoing": ("imported", "Undo was lost (the job queue restarted); nothing was removed. Try again."),
}


def settle_lost_job(batch: ImportBatch) -> ImportBatch:
    """A running batch whose job no longer exists in Redis (flushed, or a restarted non-persistent Redis)
    would wait forever: end it in words instead. Finished and failed jobs stay in Redis for hours, so
    only a queue that lost its data gets here."""
    if not batch.running or not batch.job_id:
        return batch
    try:
        exists = Job.exists(batch.job_id, connection=get_redis())
    except (RedisError, OSError):
        return batch  # cannot tell; the badge keeps waiting
    if exists:
        return batch
    status, message = LOST_MESSAGES[batch.status]
    if status == "failed":
        rollback_batch(batch.id, message)
    else:
        db.session.execute(update(ImportBatch).where(ImportBatch.id == batch.id, ImportBatch.status == batch.status)
                           .values(status=status, error=message, progress_done=0))
        db.session.commit()
    db.session.refresh(batch)
    return batch


def discard_batch(batch: ImportBatch) -> bool:
    """Cancel a batch that imported nothing: delete it and its stored file."""
    if batch.status not in ("uploaded", "previewed", "rejected", "failed", "undone"):
        return False
    db.session.execute(delete(ImportBatch).where(ImportBatch.id == batch.id, ImportBatch.status == batch.status))
    db.session.commit()
    return True


def user_batch(user_id: int, batch_id: int) -> ImportBatch | None:
    """The batch if it belongs to this user, else None (the view answers 404)."""
    if not 0 < batch_id < 2**31:  # ids past the column's range would overflow the driver
        return None
    return db.session.scalar(select(ImportBatch).where(ImportBatch.id == batch_id, ImportBatch.user_id == user_id))


def user_batches(user_id: int, limit: int | None = 50) -> tuple[list[ImportBatch], int]:
    """The user's newest batches (all of them when `limit` is None) and how many there are in total."""
    total = db.session.scalar(select(func.count()).select_from(ImportBatch).where(ImportBatch.user_id == user_id))
    stmt = (select(ImportBatch).where(ImportBatch.user_id == user_id)
            .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc()).limit(limit))
    return list(db.session.scalars(stmt)), total or 0


def invalid_rows_csv(batch: ImportBatch) -> Iterator[str]:
    """Every invalid row of the file with an extra `error` column, streamed, ready to fix and re-upload."""
    today = user_today(db.session.get(User, batch.user_id))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([*COLUMN_NAMES, "error"])
    rows = scan(batch, today)
    try:
        for row in rows:
            if row.errors:
                reason = "; ".join(f"line {row.line}: {e.column} {_quote(e.value)} {e.reason}" for e in row.errors)
                writer.writerow([_safe_cell(row.raw.get(name, "")) for name in COLUMN_NAMES] + [_safe_cell(reason)])
                if buf.tell() > 64 * 1024:
                    yield _drain(buf)
    except CsvFileError as exc:
        writer.writerow(["", "", "", "", _safe_cell(str(exc))])
    yield _drain(buf)


def local_time(user: User, instant) -> str:
    """An instant as the user's local date and time, for lists."""
    return instant.astimezone(zone(user.timezone)).strftime("%Y-%m-%d %H:%M") if instant else ""


def _safe_cell(value: str) -> str:
    """Keep spreadsheets from running a cell as a formula (OWASP CSV injection); plain numbers stay."""
    return value if NUMBER_RE.fullmatch(value) else neutralise(value)


def _quote(value: str) -> str:
    return f'"{value}"' if value else "(empty)"


def _drain(buf: io.StringIO) -> str:
    text = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return text


def _clean_filename(name: str | None) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return (name or "upload.csv")[:255]
