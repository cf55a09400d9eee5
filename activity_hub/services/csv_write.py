"""Writing a CSV batch: the preview stages its keyed valid rows in `import_rows`, the import copies them into
`activities` with `INSERT ... SELECT ... ON CONFLICT DO NOTHING`. Plain SQL straight to the driver: per-row
ORM or Core parameter processing would cost more than the insert itself."""

from functools import lru_cache

from ..extensions import db
from ..models import Activity
from ..models.base import utcnow
from .csv_parse import ParsedRow, iso_day

STAGE_COLUMNS = ("batch_id", "seq", "service", "date", "minutes", "title", "external_id")
INSERT_COLUMNS = ("user_id", "service", "date", "minutes", "title", "source", "external_id", "import_batch_id",
                  "hidden", "created_at", "updated_at")
PAGE_ROWS = 1000
SQLITE_CACHE_KB = 32 * 1024


def _marks() -> tuple[bool, str]:
    dialect = db.engine.dialect
    return dialect.name == "sqlite", "?" if dialect.paramstyle == "qmark" else "%s"


class RowStager:
    """Numbers a batch's valid rows (`seq` 1, 2, ...) and writes them to `import_rows`."""

    def __init__(self, batch_id: int) -> None:
        self.batch_id, self.seq = batch_id, 0
        self.sqlite, self.mark = _marks()

    def values(self, row: ParsedRow) -> tuple:
        self.seq += 1
        day, service, minutes, title = row.clean
        return self.batch_id, self.seq, service, iso_day(day) if self.sqlite else day, minutes, title, row.key

    def stage(self, rows: list[tuple]) -> None:
        """SQLite: one `executemany`. Others: multi-row statements in pages under the driver's parameter limit."""
        if not rows:
            return
        conn = db.session.connection()
        if self.sqlite:
            conn.exec_driver_sql(_values_sql(self.mark, 1), rows)
            return
        for start in range(0, len(rows), PAGE_ROWS):
            page = rows[start:start + PAGE_ROWS]
            conn.exec_driver_sql(_values_sql(self.mark, len(page)), tuple(v for row in page for v in row))


def copy_staged(user_id: int, batch_id: int, after_seq: int, last_seq: int) -> int:
    """Insert the batch's staged rows `after_seq < seq <= last_seq` into the history, skipping rows it already
    has; returns exactly how many were new (the statement's rowcount counts inserted rows only)."""
    sqlite, mark = _marks()
    conn = db.session.connection()
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")  # the indexes outgrow the 2 MB default
    stamp_type = Activity.__table__.c.created_at.type
    stamp = stamp_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    now = stamp(utcnow()) if stamp else utcnow()
    params = (user_id, now, now, batch_id, after_seq, last_seq)
    return conn.exec_driver_sql(_copy_sql(mark, "0" if sqlite else "false"), params).rowcount


@lru_cache(maxsize=8)
def _values_sql(mark: str, rows: int) -> str:
    one = "(" + ", ".join([mark] * len(STAGE_COLUMNS)) + ")"
    return f"INSERT INTO import_rows ({', '.join(STAGE_COLUMNS)}) VALUES {', '.join([one] * rows)}"


@lru_cache(maxsize=4)
def _copy_sql(mark: str, false: str) -> str:
    """Rows go in file order: keys start with the day, and exports list days in order, so each chunk's rows
    land next to each other in every index. The WHERE clause also keeps SQLite from reading `ON CONFLICT`
    as a join constraint."""
    return (
        f"INSERT INTO activities ({', '.join(INSERT_COLUMNS)}) "
        f"SELECT {mark}, service, date, minutes, title, 'csv', external_id, batch_id, {false}, {mark}, {mark} "
        f"FROM import_rows WHERE batch_id = {mark} AND seq > {mark} AND seq <= {mark} "
        "ON CONFLICT (user_id, source, external_id) DO NOTHING"
    )
