"""S3: uploaded files (``media.store.FileStore``), one object per file.

Key ``<prefix><id>``; the record travels as the object's content type and user metadata (ASCII
header values: the uploader's user id is percent-encoded, names are ASCII already). An object is
written whole by one PUT, so a reader never sees part of one. Reads and deletes go through the
functions as with the other backends (the signed URL model and the Lambda payload bound of
docs/api.md §17 are unchanged).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from feedline.errors import StorageUnavailable
from feedline.media.store import FileInfo, FileStore, StoredFile


def make_s3_client(endpoint_url: str = "") -> Any:
    import boto3
    from botocore.config import Config

    cfg = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=10)
    kwargs: dict[str, Any] = {"config": cfg}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    return boto3.client("s3", **kwargs)


class S3Files(FileStore):
    def __init__(self, bucket: str, prefix: str = "files/", endpoint_url: str = "", client: Any = None):
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:  # built on first use, never at import or construction
            self._client = make_s3_client(self.endpoint_url)
        return self._client

    def _key(self, file_id: str) -> str:
        return self.prefix + file_id

    def put_file(self, info: FileInfo, data: bytes) -> None:
        meta = {"kind": info.kind, "name": info.name, "size": str(info.size),
                "uploader": quote(info.uploader, safe=""), "created-us": str(info.created_us)}
        self._call("put_object", Bucket=self.bucket, Key=self._key(info.id), Body=data,
                   ContentType=info.content_type, Metadata=meta)

    def file_info(self, file_id: str) -> FileInfo | None:
        head = self._call("head_object", Bucket=self.bucket, Key=self._key(file_id))
        return None if head is None else self._info(file_id, head)

    def get_file(self, file_id: str) -> StoredFile | None:
        got = self._call("get_object", Bucket=self.bucket, Key=self._key(file_id))
        if got is None:
            return None
        data = got["Body"].read()
        info = self._info(file_id, got)
        return StoredFile(info, data) if info is not None and len(data) == info.size else None

    def delete_file(self, file_id: str) -> bool:
        # S3's DELETE answers the same whether the key existed or not: ask first
        if self.file_info(file_id) is None:
            return False
        self._call("delete_object", Bucket=self.bucket, Key=self._key(file_id))
        return True

    @staticmethod
    def _info(file_id: str, head: dict) -> FileInfo | None:
        meta = head.get("Metadata") or {}
        try:
            return FileInfo(file_id, meta["kind"], meta["name"], head.get("ContentType") or "application/octet-stream",
                            int(meta["size"]), unquote(meta.get("uploader", "")), int(meta["created-us"]))
        except (KeyError, ValueError):
            return None  # not an object this store wrote

    def _call(self, op: str, **kwargs: Any) -> Any:
        """One S3 call; a missing key is None, an unreachable S3 a StorageUnavailable (503)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, op)(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageUnavailable(f"S3 {op} failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"S3 {op} failed: {type(exc).__name__}") from exc
