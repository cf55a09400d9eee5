"""Reading a batch's stored file in pieces, so a large upload never sits whole in a worker's memory."""

import io

from sqlalchemy import func, select

from ..extensions import db
from ..models.imports import ImportFile

CHUNK_BYTES = 1024 * 1024


class StoredContent(io.RawIOBase):
    """A read-only byte stream over `import_files.content`, on its own connection.

    SQLite reads through incremental blob I/O; other databases read `substr()` slices. The connection
    is separate from the session's, so reading never holds a transaction open around the import's writes.
    """

    def __init__(self, batch_id: int) -> None:
        super().__init__()
        self.batch_id = batch_id
        self.bytes_read = 0
        self._conn = db.engine.connect()
        self._blob = None
        if self._conn.dialect.name == "sqlite":
            raw = self._conn.connection.dbapi_connection
            self._blob = raw.blobopen("import_files", "content", batch_id, readonly=True)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), CHUNK_BYTES)
        if self._blob is not None:
            data = self._blob.read(size)
        else:
            data = self._conn.scalar(
                select(func.substr(ImportFile.content, self.bytes_read + 1, size)).where(
                    ImportFile.batch_id == self.batch_id
                )
            ) or b""
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n

    def close(self) -> None:
        if not self.closed:
            if self._blob is not None:
                self._blob.close()
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

