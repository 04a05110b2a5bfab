"""SQLite: uploaded files (``media.store.FileStore``), bytes in a BLOB column."""

from __future__ import annotations

from feedline.media.store import FileInfo, FileStore, StoredFile
from feedline.storage.sqlite.db import SQLiteDB

_INFO = "id, kind, name, content_type, size, uploader, created_us"


class SQLiteFiles(FileStore):
    def __init__(self, db: SQLiteDB):
        self.db = db

    def put_file(self, info: FileInfo, data: bytes) -> None:
        self.db.execute(f"INSERT INTO files ({_INFO}, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (info.id, info.kind, info.name, info.content_type, info.size, info.uploader,
                         info.created_us, data))

    def file_info(self, file_id: str) -> FileInfo | None:
        rows = self.db.query(f"SELECT {_INFO} FROM files WHERE id = ?", (file_id,))
        return FileInfo(*rows[0]) if rows else None

    def get_file(self, file_id: str) -> StoredFile | None:
        rows = self.db.query(f"SELECT {_INFO}, data FROM files WHERE id = ?", (file_id,))
        if not rows:
            return None
        *info, data = rows[0]
        return StoredFile(FileInfo(*info), bytes(data))

    def delete_file(self, file_id: str) -> bool:
        return self.db.execute("DELETE FROM files WHERE id = ?", (file_id,)) == 1
