"""The CSV import engine: preview (validate + count), import, roll back and undo a batch. No Flask request.

Design:
- The file is stored with its batch (table `import_files`) and read back as a stream (`csv_content`), so any worker host can run
  any step and memory stays flat however long the file is.
- A row's identity (`Activity.external_id`) is the digest of the normalised row plus its occurrence number
  among identical rows of the same file (`csv_parse.OccurrenceCounter`). Re-uploading a file, or a longer
  export of the same history, therefore meets its earlier rows as conflicts and adds only what is new.
- The import writes in chunks of `CHUNK_ROWS`, each one transaction holding the chunk's
  `INSERT ... ON CONFLICT DO NOTHING` (exact counts: `RETURNING id` on PostgreSQL, the summed rowcount of
  one `executemany` on SQLite; see `csv_write`) plus the batch's progress, so the database is never locked
  for long and the badge moves. It is resumable rather than all-in-one: a retried attempt (RQ `Retry`,
  also after a killed worker) starts from the top, skips the rows its earlier attempt inserted (same
  keys), and the batch is marked `imported` only after the last chunk, with the count read back from the
  database. If the final attempt fails, `rollback_batch` deletes every row of the batch, so the history
  is as it was before.
- Undo deletes exactly the rows whose `import_batch_id` is the batch, in one transaction; rows a batch met
  as duplicates belong to the earlier batch and stay. The batch row is kept (status `undone`) so the list
  of past imports still shows it; its rows are gone, so the same file can be imported again later.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import current_app
from sqlalchemy import delete, func, select, update

from ..extensions import db
from ..models import Activity, ImportBatch, User
from ..models.base import utcnow
from .csv_content import ContentSource
from .csv_parse import CsvFileError, Layout, ParsedRow, iter_rows
from .csv_write import RowWriter
from .timezones import local_today

CHUNK_ROWS = 10_000
LOOKUP_KEYS = 5000
PROGRESS_EVERY_ROWS = 5000
MAX_STORED_ERRORS = 100


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector around a row loop.

    The loop makes no reference cycles (refcounting frees every row), but each chunk keeps thousands of
    young container objects alive, so the collector kept re-scanning them: measured 30% of an import.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def user_today(user: User) -> date:
    """Today in the user's own time zone (the future-date rule)."""
    return local_today(user.timezone)


def max_rows() -> int:
    return int(current_app.config.get("CSV_MAX_ROWS") or 1_000_000)


def scan(batch: ImportBatch, today: date, layout_out: list | None = None,
         keyed: bool = True) -> tuple[ContentSource, Iterator[ParsedRow]]:
    """Stream the batch's rows; the source reports how many bytes have been read."""
    source = ContentSource(batch.id)
    return source, iter_rows(source.open, today, max_rows(), layout_out, keyed)


def preview_batch(batch_id: int) -> ImportBatch | None:
    """Validate the stored file and count new, duplicate and invalid rows; keep the first errors."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status not in ("uploaded", "validating"):
        return batch
    user_id = batch.user_id
    today = user_today(db.session.get(User, user_id))
    batch.status, batch.progress_done, batch.progress_total = "validating", 0, batch.size_bytes
    db.session.commit()
    total = invalid = duplicates = 0
    errors: list[dict] = []
    keys: list[str] = []
    layouts: list[Layout] = []
    look_up = _has_csv_rows(user_id)  # a first import cannot meet duplicates: no keys, no lookups
    source, rows = scan(batch, today, layouts, keyed=look_up)
    try:
        with gc_paused():
            for chunk in chunked(rows, LOOKUP_KEYS):
                for row in chunk:
                    if row.clean is None:
                        invalid += 1
                        if len(errors) < MAX_STORED_ERRORS:
                            errors.extend(_error_dicts(row))
                    elif look_up:
                        keys.append(row.key)
                duplicates += _count_existing(user_id, keys)
                keys.clear()
                total += len(chunk)
                if total % PROGRESS_EVERY_ROWS < LOOKUP_KEYS:
                    _set_progress(batch_id, source.bytes_read)
    except CsvFileError as exc:
        return _finish_preview(batch_id, status="rejected", error=str(exc))
    warnings = layouts[0].warnings() if layouts else []
    return _finish_preview(
        batch_id, status="previewed", total_rows=total, invalid_count=invalid, duplicate_count=duplicates,
        new_count=total - invalid - duplicates, errors=errors[:MAX_STORED_ERRORS], warnings=warnings,
    )


def import_batch(batch_id: int) -> ImportBatch | None:
    """Insert the batch's valid rows in chunks; safe to run again after a failed or killed attempt."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status not in ("queued", "importing"):
        return batch
    user_id = batch.user_id
    today = user_today(db.session.get(User, user_id))
    already = _count_batch_rows(batch_id)
    batch.status, batch.attempts = "importing", (batch.attempts or 0) + 1
    batch.progress_done, batch.progress_total, batch.imported_count = 0, batch.valid_count, already
    batch.error = None
    db.session.commit()
    _, rows = scan(batch, today)
    writer = RowWriter(user_id, batch_id)
    done = invalid = 0
    imported = already
    try:
        with gc_paused():
            for parsed in chunked(rows, CHUNK_ROWS):
                chunk = [writer.values(row) for row in parsed if row.clean is not None]
                invalid += len(parsed) - len(chunk)
                done += len(chunk)
                imported += _insert_chunk(writer, chunk, done, imported)
    except CsvFileError as exc:
        rollback_batch(batch_id, f"The file could not be read again: {exc}")
        return db.session.get(ImportBatch, batch_id)
    imported = _count_batch_rows(batch_id)  # exact even if two attempts ever overlapped
    db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch_id).values(
            status="imported", imported_count=imported, new_count=imported, duplicate_count=done - imported,
            invalid_count=invalid, progress_done=done, progress_total=done, finished_at=utcnow(),
        )
    )
    db.session.commit()
    return db.session.get(ImportBatch, batch_id)


def rollback_batch(batch_id: int, message: str) -> None:
    """The import gave up: remove what it added, in one transaction, and say so on the batch."""
    db.session.rollback()
    db.session.execute(delete(Activity).where(Activity.import_batch_id == batch_id))
    db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch_id).values(
            status="failed", error=message, imported_count=0, progress_done=0, finished_at=utcnow(),
        )
    )
    db.session.commit()


def undo_batch(batch_id: int) -> ImportBatch | None:
    """Remove exactly the rows this batch added, in one transaction, and mark the batch undone."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status != "undoing":
        return batch
    removed = db.session.execute(
        delete(Activity).where(Activity.import_batch_id == batch_id, Activity.user_id == batch.user_id)
    ).rowcount
    batch.status, batch.undone_count, batch.undone_at = "undone", removed, utcnow()
    db.session.commit()
    return batch


def _insert_chunk(writer: RowWriter, chunk: list[tuple], done: int, imported_before: int) -> int:
    """One transaction: the chunk's new rows and the batch's progress. Returns how many rows were new."""
    inserted = writer.insert(chunk)
    db.session.execute(
        update(ImportBatch).where(ImportBatch.id == writer.batch_id).values(
            progress_done=done, imported_count=imported_before + inserted
        )
    )
    db.session.commit()
    return inserted


def chunked(items: Iterator, size: int) -> Iterator[list]:
    """Lists of up to `size` consecutive items."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _count_existing(user_id: int, keys: list[str]) -> int:
    if not keys:
        return 0
    count = db.session.scalar(
        select(func.count()).select_from(Activity).where(
            Activity.user_id == user_id, Activity.source == "csv", Activity.external_id.in_(keys)
        )
    )
    db.session.commit()
    return count or 0


def _has_csv_rows(user_id: int) -> bool:
    found = db.session.scalar(
        select(Activity.id).where(Activity.user_id == user_id, Activity.source == "csv").limit(1)
    )
    db.session.commit()
    return found is not None


def _count_batch_rows(batch_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Activity).where(Activity.import_batch_id == batch_id))


def _set_progress(batch_id: int, done: int) -> None:
    db.session.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(progress_done=done))
    db.session.commit()


def _finish_preview(batch_id: int, **values) -> ImportBatch:
    db.session.rollback()
    db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch_id).values(progress_done=0, **values)
    )
    db.session.commit()
    return db.session.get(ImportBatch, batch_id)


def _error_dicts(row: ParsedRow) -> list[dict]:
    return [
        {"line": row.line, "column": e.column, "value": e.value[:80], "reason": e.reason} for e in row.errors
    ]
