"""Writing a CSV batch: the preview stages its keyed valid rows in `import_rows`, the import copies them into
`activities` with `INSERT ... SELECT ... ON CONFLICT DO NOTHING`. Plain SQL straight to the driver: per-row
ORM or Core parameter processing would cost more than the insert itself."""

from functools import lru_cache

from ..extensions import db
from ..models import Activity, ImportRow
from ..models.base import utcnow

STAGE_COLUMNS = ("seq", "batch_id", "service", "date", "minutes", "title", "external_id")
INSERT_COLUMNS = ("user_id", "service", "date", "minutes", "title", "source", "external_id", "import_batch_id",
                  "hidden", "created_at", "updated_at")
PAGE_ROWS = 1000
SQLITE_CACHE_KB = 32 * 1024


def _marks() -> tuple[bool, str]:
    dialect = db.engine.dialect
    return dialect.name == "sqlite", "?" if dialect.paramstyle == "qmark" else "%s"


def stage_chunk(batch_id: int, rows: list[tuple]) -> None:
    """Write a chunk's valid rows, `csv_parse.Chunk.valid` tuples `(n, service, day, minutes, title, key)`, to
    `import_rows` for the batch. SQLite: one `executemany`. Others: multi-row statements in pages under the
    driver's parameter limit."""
    if not rows:
        return
    sqlite, mark = _marks()
    conn = db.session.connection()
    if sqlite:
        conn.exec_driver_sql(_stage_sql(mark, 1, int(batch_id)), rows)
        return
    for start in range(0, len(rows), PAGE_ROWS):
        page = rows[start:start + PAGE_ROWS]
        conn.exec_driver_sql(_stage_sql(mark, len(page), int(batch_id)), tuple(v for row in page for v in row))


def copy_staged(user_id: int, batch_id: int, after: int, last: int) -> int:
    """Insert the batch's staged rows `after < n <= last` into the history, skipping rows it already
    has; returns exactly how many were new (the statement's rowcount counts inserted rows only)."""
    sqlite, mark = _marks()
    conn = db.session.connection()
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")  # the indexes outgrow the 2 MB default
    stamp_type = Activity.__table__.c.created_at.type
    stamp = stamp_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    now = stamp(utcnow()) if stamp else utcnow()
    first = ImportRow.first_seq(batch_id)
    params = (user_id, batch_id, now, now, first + after, first + last)
    return conn.exec_driver_sql(_copy_sql(mark, "0" if sqlite else "false"), params).rowcount


@lru_cache(maxsize=8)
def _stage_sql(mark: str, rows: int, batch_id: int) -> str:
    """Each row binds `(n, service, day, minutes, title, key)`; the batch is written into the statement."""
    one = f"({ImportRow.first_seq(batch_id)} + {mark}, {batch_id}, {', '.join([mark] * 5)})"
    return f"INSERT INTO import_rows ({', '.join(STAGE_COLUMNS)}) VALUES {', '.join([one] * rows)}"


@lru_cache(maxsize=4)
def _copy_sql(mark: str, false: str) -> str:
    """Rows go in file order: keys start with the day, and exports list days in order, so each chunk's rows
    land next to each other in every index. The WHERE clause also keeps SQLite from reading `ON CONFLICT`
    as a join constraint."""
    return (
        f"INSERT INTO activities ({', '.join(INSERT_COLUMNS)}) "
        f"SELECT {mark}, service, date, minutes, title, 'csv', external_id, {mark}, {false}, {mark}, {mark} "
        f"FROM import_rows WHERE seq > {mark} AND seq <= {mark} "
        "ON CONFLICT (user_id, source, external_id) DO NOTHING"
    )
