"""Reading a batch's stored file in pieces, so a large upload never sits whole in a worker's memory."""

import io

from sqlalchemy import func, select

from ..extensions import db
from ..models.imports import ImportFile

CHUNK_BYTES = 2 * 1024 * 1024


class StoredContent(io.RawIOBase):
    """A read-only byte stream over `import_files.content`, read in pieces on its own connection.

    Each piece is its own short read: SQLite through incremental blob I/O, other databases through
    `substr()`. No read transaction stays open between pieces, so while an import writes for minutes,
    SQLite can keep checkpointing its WAL (a long-lived reader made the WAL grow to gigabytes).
    """

    def __init__(self, batch_id: int) -> None:
        super().__init__()
        self.batch_id = batch_id
        self.bytes_read = 0
        self._conn = db.engine.connect()
        self._sqlite = self._conn.dialect.name == "sqlite"
        self._piece = b""
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        """Serve callers (who ask for 8 kB at a time) from a piece of CHUNK_BYTES fetched in one read."""
        if self._offset >= len(self._piece):
            self._piece = self._read_sqlite() if self._sqlite else self._read_sql()
            self._offset = 0
        n = min(len(buffer), len(self._piece) - self._offset)
        buffer[:n] = self._piece[self._offset:self._offset + n]
        self._offset += n
        self.bytes_read += n
        return n

    def _read_sqlite(self) -> bytes:
        raw = self._conn.connection.dbapi_connection
        with raw.blobopen("import_files", "content", self.batch_id, readonly=True) as blob:
            blob.seek(self.bytes_read)
            return blob.read(CHUNK_BYTES)

    def _read_sql(self) -> bytes:
        data = self._conn.scalar(
            select(func.substr(ImportFile.content, self.bytes_read + 1, CHUNK_BYTES)).where(
                ImportFile.batch_id == self.batch_id
            )
        )
        self._conn.commit()
        return data or b""

    def close(self) -> None:
        if not self.closed:
            self._conn.close()
        super().close()


class ContentSource:
    """Opens buffered streams over one batch's file and remembers how far the latest one has read."""

    def __init__(self, batch_id: int) -> None:
        self.batch_id = batch_id
        self._current: StoredContent | None = None

    def open(self) -> io.BufferedReader:
        self._current = StoredContent(self.batch_id)
        return io.BufferedReader(self._current, buffer_size=CHUNK_BYTES)

    @property
    def bytes_read(self) -> int:
        return self._current.bytes_read if self._current else 0

