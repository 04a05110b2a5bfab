"""The media service: upload, look up, delete and serve files and images.

Who may delete: a server token (scope allowing ``delete`` on ``files``/``images``) any file; a user
token only a file it uploaded (the uploader's user id is recorded at upload). Reading a file needs
no token: its signed URL is the credential (``model.Signer``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from feedline.errors import DoesNotExistException, InputException, NotAllowedException
from feedline.media import images
from feedline.media.model import (
    FILE_ID,
    MAX_FILE_BYTES,
    FileUrl,
    Options,
    Signer,
    clean_content_type,
    clean_name,
    new_id,
)
from feedline.media.store import FileInfo
from feedline.stores import Stores


def now_us() -> int:
    return time.time_ns() // 1000


class MediaService:
    def __init__(self, stores: Stores, api_secret: str, clock: Callable[[], int] = now_us):
        self.stores = stores
        self.signer = Signer(api_secret)
        self.clock = clock

    def upload(self, kind: str, filename: str | None, content_type: str | None, data: bytes,
               uploader: str) -> FileInfo:
        if not data:
            raise InputException.field("file", "is empty")
        if len(data) > MAX_FILE_BYTES:
            raise InputException.field("file", f"is larger than {MAX_FILE_BYTES} bytes")
        if kind == "images":
            ctype = images.inspect(data)  # what the bytes are, not what the client says
            name = clean_name(filename, "image")
        else:
            ctype = clean_content_type(content_type)
            name = clean_name(filename, "file")
        info = FileInfo(new_id(), kind, name, ctype, len(data), uploader, self.clock())
        self.stores.files.put_file(info, data)
        return info

    def url(self, origin: str, info: FileInfo, opts: Options | None = None) -> str:
        return self.signer.url(origin, info.kind, info.id, info.name, opts)

    def find(self, kind: str, ref: FileUrl | None) -> FileInfo:
        """The file a URL of ours names, checked: a URL we did not sign, of another kind, or of a
        file that is gone is a 404 (one answer for all three: nothing to learn by probing). A
        processed image's URL names its original."""
        if ref is None or ref.kind != kind or not self.signer.valid(ref.kind, ref.id, ref.name, ref.opts, ref.sig):
            raise DoesNotExistException(f"url is not a {kind[:-1]} URL of this API")
        info = self.stores.files.file_info(ref.id)
        if info is None or info.kind != kind or info.name != ref.name:
            raise DoesNotExistException(f"the {kind[:-1]} does not exist")
        return info

    def delete(self, info: FileInfo, user_id: str | None) -> None:
        """``user_id``: the caller's user id for a user token, None for a server token."""
        if user_id is not None and info.uploader != user_id:
            raise NotAllowedException(f"user {user_id!r} may delete only the {info.kind} they uploaded")
        if not self.stores.files.delete_file(info.id):
            raise DoesNotExistException(f"the {info.kind[:-1]} does not exist")

    def content(self, kind: str, file_id: str, name: str, opts: Options, sig: str) -> tuple[bytes, FileInfo, str]:
        """``(bytes, record, content type)`` of a signed URL; processed when it carries options."""
        if FILE_ID.fullmatch(file_id) is None:
            raise DoesNotExistException(f"the {kind[:-1]} does not exist")
        if not self.signer.valid(kind, file_id, name, opts, sig):
            raise NotAllowedException("the URL's signature does not match: use the URL the API returned")
        found = self.stores.files.get_file(file_id)
        if found is None or found.info.kind != kind or found.info.name != name:
            raise DoesNotExistException(f"the {kind[:-1]} does not exist")
        if opts.empty:
            return found.data, found.info, found.info.content_type
        data, ctype = images.process(found.data, opts)
        return data, found.info, ctype
