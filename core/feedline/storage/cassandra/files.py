"""Cassandra: uploaded files (``media.store.FileStore``), one partition per file, chunked.

Table ``files`` (``migrations/0009_files.cql``): the record in static columns, the bytes in
clustering rows of ``CHUNK_BYTES``. The chunks are written first (concurrently: one partition, but
separate mutations keep each one small), the record last; so a reader never sees a file whose
bytes are not all there, and a write that failed half-way leaves no file (only chunk rows a
delete of the id removes).
"""

from __future__ import annotations

from feedline.media.store import FileInfo, FileStore, StoredFile
from feedline.storage.cassandra.base import CassandraRole

CHUNK_BYTES = 256 * 1024


def _info(row: tuple) -> FileInfo | None:
    file_id, kind, name, ctype, size, uploader, created_us, chunks = row[:8]
    if chunks is None or kind is None:
        return None  # the record is written last: no record, no file
    return FileInfo(file_id, kind, name, ctype, size, uploader or "", created_us)


class CassandraFiles(CassandraRole, FileStore):
    def put_file(self, info: FileInfo, data: bytes) -> None:
        pieces = [data[i:i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
        self.session.concurrent(("file_chunk_put", (info.id, n, piece)) for n, piece in enumerate(pieces))
        self.session.write("file_record_put", (info.id, info.kind, info.name, info.content_type, info.size,
                                               info.uploader, info.created_us, len(pieces)))

    def file_info(self, file_id: str) -> FileInfo | None:
        rows = self.session.rows("file_record_get", (file_id,))
        return _info(rows[0]) if rows else None

    def get_file(self, file_id: str) -> StoredFile | None:
        rows = self.session.rows("file_get", (file_id,))
        if not rows:
            return None
        info = _info(rows[0])
        chunks = rows[0][7]
        pieces = [r[9] for r in rows if r[8] is not None]
        if info is None or len(pieces) != chunks:
            return None
        data = b"".join(p or b"" for p in pieces)
        return StoredFile(info, data) if len(data) == info.size else None

    def delete_file(self, file_id: str) -> bool:
        if self.file_info(file_id) is None:
            return False
        self.session.write("file_delete", (file_id,))
        return True
