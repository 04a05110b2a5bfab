"""The file store contract: one record per uploaded file, its bytes with it.

Bound to every backend by ``tests/contract/file_store_contract.py``: SQLite and Cassandra keep the
bytes in the database (a self-hosted stack needs nothing else); with a files bucket configured,
``storage.s3`` keeps them in S3 (docs/api.md §17).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FileInfo:
    #: 32 lowercase hex digits (a random uuid): never guessed, never reused
    id: str
    #: ``files`` or ``images``: the endpoint it was uploaded to
    kind: str
    #: the sanitized file name (``model.clean_name``)
    name: str
    content_type: str
    size: int
    #: the user id of the user token that uploaded it; "" for a server token
    uploader: str
    created_us: int


@dataclass(frozen=True, slots=True)
class StoredFile:
    info: FileInfo
    data: bytes


class FileStore(ABC):
    @abstractmethod
    def put_file(self, info: FileInfo, data: bytes) -> None:
        """Store a new file (``len(data) == info.size``); ids are fresh, never overwritten."""

    @abstractmethod
    def file_info(self, file_id: str) -> FileInfo | None:
        """The record without its bytes (deletes check ownership with it), or None."""

    @abstractmethod
    def get_file(self, file_id: str) -> StoredFile | None:
        """The record and its bytes, or None (also for a file whose write never finished)."""

    @abstractmethod
    def delete_file(self, file_id: str) -> bool:
        """Forget the file; False if there was none."""
