"""The CSV import engine: preview (validate + count), import, roll back and undo a batch. No Flask request.

Design:
- The file is stored with its batch (table `import_files`) and read back as a stream (`csv_content`), so any worker host can run
  any step and memory stays flat however long the file is.
- A row's identity (`Activity.external_id`) is its day, the digest of the normalised row and its occurrence
  number among identical rows of the same file (`csv_parse.OccurrenceCounter`): `2025-06-01:<digest>-1`.
  Re-uploading a file, or a longer export of the same history, therefore meets its earlier rows as
  conflicts and adds only what is new. The day comes first because exports list days in order: each chunk
  then writes one narrow, growing part of the natural-key index, not pages all over it.
- The file is parsed once, by the preview, which stages every valid row, keyed, in `import_rows` and
  counts duplicates with one join against the history. The import is then SQL only: chunks of
  `CHUNK_ROWS` staged rows, each one transaction holding an `INSERT ... SELECT ... ON CONFLICT DO NOTHING`
  (whose rowcount is exactly the new rows) plus the batch's progress, so the database is never locked for
  long and the badge moves. It is resumable rather than all-in-one: a retried attempt (RQ `Retry`, also
  after a killed worker) starts from the top, skips the rows its earlier attempt inserted (same keys), and
  the batch is marked `imported` only after the last chunk, with the count read back from the database;
  its staged rows are removed in that same transaction. If the final attempt fails, `rollback_batch`
  deletes every row of the batch, so the history is as it was before, and keeps the staged rows for a retry.
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
from ..models import Activity, ImportBatch, ImportRow, User
from ..models.base import utcnow
from .csv_content import ContentSource
from .csv_parse import CsvFileError, Layout, ParsedRow, iter_chunks, iter_rows
from .csv_write import copy_staged, stage_chunk
from .timezones import local_today

CHUNK_ROWS = 10_000
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


def scan(batch: ImportBatch, today: date) -> Iterator[ParsedRow]:
    """Stream the stored file's rows one by one, checked but not keyed (the invalid-rows download)."""
    return iter_rows(ContentSource(batch.id).open, today, max_rows(), keyed=False)


def preview_batch(batch_id: int) -> ImportBatch | None:
    """Validate the stored file, stage its valid rows, and count new, duplicate and invalid rows; keep the
    first errors."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status not in ("uploaded", "validating"):
        return batch
    user_id = batch.user_id
    batch.status, batch.progress_done, batch.progress_total = "validating", 0, batch.size_bytes
    db.session.commit()
    layouts: list[Layout] = []
    try:
        total, invalid, errors = stage_rows(batch, layouts)
    except CsvFileError as exc:
        _clear_staged(batch_id)
        return _finish_preview(batch_id, status="rejected", error=str(exc))
    valid = total - invalid
    duplicates = _count_staged_duplicates(user_id, batch_id) if valid and _has_csv_rows(user_id) else 0
    warnings = layouts[0].warnings() if layouts else []
    return _finish_preview(
        batch_id, status="previewed", total_rows=total, invalid_count=invalid, duplicate_count=duplicates,
        new_count=valid - duplicates, errors=errors[:MAX_STORED_ERRORS], warnings=warnings,
    )


def stage_rows(batch: ImportBatch, layouts: list[Layout] | None = None,
               progress: bool = True) -> tuple[int, int, list[dict]]:
    """Parse the stored file once and keep its valid rows, keyed, in `import_rows` (replacing any earlier
    attempt's), one transaction per chunk, with the bytes read as the batch's progress unless `progress`
    is False. Returns (rows, invalid rows, the first errors)."""
    batch_id = batch.id
    _clear_staged(batch_id)
    today = user_today(db.session.get(User, batch.user_id))
    source = ContentSource(batch_id)
    total = invalid = 0
    errors: list[dict] = []
    with gc_paused():
        for chunk in iter_chunks(source.open, today, max_rows(), layouts, size=CHUNK_ROWS):
            stage_chunk(batch_id, chunk.valid)
            total += chunk.rows
            invalid += len(chunk.invalid)
            for row in chunk.invalid:
                if len(errors) >= MAX_STORED_ERRORS:
                    break
                errors.extend(_error_dicts(row))
            if progress:
                _set_progress(batch_id, source.bytes_read)
            else:
                db.session.commit()
    return total, invalid, errors


def import_batch(batch_id: int) -> ImportBatch | None:
    """Copy the batch's staged rows into the history in chunks; safe to run again after a failed or killed
    attempt."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status not in ("queued", "importing"):
        return batch
    user_id = batch.user_id
    already = _count_batch_rows(batch_id)
    batch.status, batch.attempts = "importing", (batch.attempts or 0) + 1
    batch.progress_done, batch.progress_total, batch.imported_count = 0, batch.valid_count, already
    batch.error = None
    db.session.commit()
    last = _last_staged(batch_id)
    if last == 0 and batch.valid_count:  # staged rows gone (a batch previewed before staging existed)
        try:
            stage_rows(batch, progress=False)
        except CsvFileError as exc:
            rollback_batch(batch_id, f"The file could not be read again: {exc}")
            return db.session.get(ImportBatch, batch_id)
        last = _last_staged(batch_id)
    imported = already
    for done in range(0, last, CHUNK_ROWS):
        imported += _insert_chunk(user_id, batch_id, done, min(done + CHUNK_ROWS, last), imported)
    imported = _count_batch_rows(batch_id)  # exact even if two attempts ever overlapped
    db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch_id).values(
            status="imported", imported_count=imported, new_count=imported, duplicate_count=last - imported,
            progress_done=last, progress_total=last, finished_at=utcnow(),
        )
    )
    _clear_staged(batch_id)  # in the same transaction: an imported batch never keeps staged rows
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


def _insert_chunk(user_id: int, batch_id: int, after: int, last: int, imported_before: int) -> int:
    """One transaction: staged rows `after < n <= last` and the batch's progress. Returns how many were new."""
    inserted = copy_staged(user_id, batch_id, after, last)
    db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch_id).values(
            progress_done=last, imported_count=imported_before + inserted
        )
    )
    db.session.commit()
    return inserted


def _count_staged_duplicates(user_id: int, batch_id: int) -> int:
    """How many staged rows the history already has: one join over the natural-key index."""
    count = db.session.scalar(
        select(func.count()).select_from(ImportRow).join(
            Activity, (Activity.user_id == user_id) & (Activity.source == "csv")
            & (Activity.external_id == ImportRow.external_id),
        ).where(ImportRow.batch_rows(batch_id))
    )
    db.session.commit()
    return count or 0


def _has_csv_rows(user_id: int) -> bool:
    found = db.session.scalar(
        select(Activity.id).where(Activity.user_id == user_id, Activity.source == "csv").limit(1)
    )
    db.session.commit()
    return found is not None


def _last_staged(batch_id: int) -> int:
    """How many rows the batch has staged (its last row's n), 0 for none."""
    last = db.session.scalar(select(func.max(ImportRow.seq)).where(ImportRow.batch_rows(batch_id)))
    return last - ImportRow.first_seq(batch_id) if last is not None else 0


def _clear_staged(batch_id: int) -> None:
    # No session synchronisation: staged rows are never loaded as objects, and for a range condition the ORM
    # would fetch every deleted key back (RETURNING) to find them.
    db.session.execute(delete(ImportRow).where(ImportRow.batch_rows(batch_id))
                       .execution_options(synchronize_session=False))
    db.session.commit()


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
