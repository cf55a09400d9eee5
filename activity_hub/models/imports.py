"""Uploaded CSV files: kept with their content so a worker on another host can read them; undoable.

A batch moves through: `uploaded` (stored, validation queued) -> `validating` -> `previewed` (counts and
first errors known) or `rejected` (the file as a whole cannot be read) -> `queued` -> `importing` ->
`imported`, and later `undoing` -> `undone`. A failed import is rolled back and ends `failed` (it can be
started again). Cancelling a preview deletes the batch: nothing was imported, so nothing else goes.

The file itself lives in its own table, `import_files`, one row per batch. The batch row is updated for
every progress step; SQLite rewrites a whole row, blob included, on any UPDATE, so keeping a 50 MB file
beside the counters would copy it on every step. `ImportBatch.content` still reads and sets it.

The preview parses and keys the file once and keeps every valid row in `import_rows`; the import copies
them into `activities` with `INSERT ... SELECT`, so the file is not parsed a second time and the import
imports exactly what the preview counted. A batch's staged rows go when its import finishes or the batch
is deleted.
"""

from datetime import date

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

BATCH_STATUSES = (
    "uploaded", "validating", "previewed", "rejected", "queued", "importing", "imported", "failed",
    "undoing", "undone",
)
RUNNING_STATUSES = ("uploaded", "validating", "queued", "importing", "undoing")
SEQ_BITS = 32  # room for 4,294,967,295 staged rows per batch


class ImportBatch(db.Model):
    __tablename__ = "import_batches"
    __table_args__ = (Index("ix_import_batches_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    file_hash: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="uploaded")
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    invalid_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_count: Mapped[int] = mapped_column(Integer, default=0)
    undone_count: Mapped[int] = mapped_column(Integer, default=0)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list | None] = mapped_column(JSON)
    warnings: Mapped[list | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    finished_at = mapped_column(UTCDateTime)
    undone_at = mapped_column(UTCDateTime)

    file = relationship("ImportFile", uselist=False, cascade="all, delete-orphan", passive_deletes=True)

    @property
    def content(self) -> bytes:
        return self.file.content if self.file is not None else b""

    @content.setter
    def content(self, value: bytes) -> None:
        self.file = ImportFile(content=value)

    @property
    def running(self) -> bool:
        return self.status in RUNNING_STATUSES

    @property
    def valid_count(self) -> int:
        return self.new_count + self.duplicate_count


class ImportFile(db.Model):
    """The bytes of an uploaded file, kept apart from its batch's often-updated counters."""

    __tablename__ = "import_files"

    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class ImportRow(db.Model):
    """A valid row of a previewed batch, normalised and keyed, waiting to be imported.

    `seq` is the row's place in the whole table: `(batch_id << SEQ_BITS) + n`, where n numbers the batch's
    valid rows 1, 2, ... in file order. It is the primary key (SQLite's rowid), so each batch's rows sit
    together in file order: the preview appends, the import copies `n` ranges (progress as rows done), and
    removing a batch's rows is one range delete, all without a second index. Every query of a batch's rows
    goes through `batch_rows`, a range of `seq`. `batch_id` keeps the rows tied to their batch (deleting the
    batch deletes them); it has no index of its own, so that cascade scans this table, which holds only
    rows of previews not yet imported.
    """

    __tablename__ = "import_rows"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(64))
    date: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str] = mapped_column(String(200))

    @staticmethod
    def first_seq(batch_id: int) -> int:
        """The `seq` just before the batch's first row: row n of the batch has `first_seq + n`."""
        return int(batch_id) << SEQ_BITS

    @classmethod
    def batch_rows(cls, batch_id: int):
        """The condition selecting all of one batch's staged rows (a primary-key range)."""
        first = cls.first_seq(batch_id)
        return cls.seq.between(first + 1, first + (1 << SEQ_BITS) - 1)
