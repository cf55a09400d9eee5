"""Streaming CSV and JSON exports of a filtered history, in the upload template's columns plus `source`."""

import csv
import io
import json
from collections.abc import Iterator

from sqlalchemy import select

from ..extensions import db
from ..models import Activity
from .history import HistoryFilter, conditions
from .rows import COLUMN_NAMES, neutralise

EXPORT_COLUMNS = (*COLUMN_NAMES, "source")
BATCH = 2000


def _batches(user_id: int, f: HistoryFilter, batch: int) -> Iterator[list]:
    """The filtered rows oldest first, fetched `batch` at a time (a server-side cursor on PostgreSQL)."""
    stmt = (select(Activity.date, Activity.service, Activity.minutes, Activity.title, Activity.source,
                   Activity.occurred_at, Activity.hidden)
            .where(*conditions(user_id, f)).order_by(Activity.date, Activity.id)
            .execution_options(yield_per=batch))
    result = db.session.execute(stmt)
    try:
        yield from result.partitions()
    finally:
        result.close()


def csv_chunks(user_id: int, f: HistoryFilter, batch: int = BATCH) -> Iterator[str]:
    """The CSV text in pieces of about `batch` rows, so memory stays flat whatever the history's size."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for rows in _batches(user_id, f, batch):
        writer.writerows(
            (day.isoformat(), neutralise(service), minutes, neutralise(title), neutralise(source))
            for day, service, minutes, title, source, _instant, _hidden in rows
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def json_chunks(user_id: int, f: HistoryFilter, batch: int = BATCH) -> Iterator[str]:
    """A JSON array of objects with the CSV's fields plus `occurred_at` and `hidden`, streamed in pieces."""
    yield "["
    separator = "\n"
    for rows in _batches(user_id, f, batch):
        parts = []
        for day, service, minutes, title, source, instant, hidden in rows:
            item = {"date": day.isoformat(), "service": service, "minutes": minutes, "title": title,
                    "source": source, "occurred_at": instant.isoformat() if instant else None,
                    "hidden": bool(hidden)}
            parts.append(separator + json.dumps(item, ensure_ascii=False))
            separator = ",\n"
        yield "".join(parts)
    yield "\n]\n"


def export_filename(f: HistoryFilter, today, extension: str) -> str:
    name = f"activity-hub-{today.isoformat()}"
    if f.narrowed:
        name += "-filtered"
    return f"{name}.{extension}"
