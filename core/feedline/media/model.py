"""Files and images, pure: ids, names, content types, processing options, signed URLs.

A file's URL is ``<origin>/api/v1.0/<kind>/content/<id>/<name>?[w=&h=&crop=&resize=&]sig=<hmac>``.
A browser ``<img>`` fetches it without any header, so the URL itself is the credential: ``sig`` is
an HMAC-SHA256 (keyed by a key derived from the app's API secret) over the kind, id, name and the
processing options. Ids are random 128-bit values, so URLs can be neither enumerated nor forged;
changing any part (another size, another name) needs a new signature, which only the API gives.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from feedline.errors import InputException

KINDS = ("files", "images")
#: the largest upload. Lambda's invocation payload is 6 MB each way and a binary body travels
#: base64-encoded (4/3): 4 MiB of file is what fits both the upload and the download through
#: API Gateway + Lambda (API Gateway alone would take 10 MB). docs/api.md, "Files and images".
MAX_FILE_BYTES = 4 * 1024 * 1024
#: the largest processed image served (the same Lambda response bound)
MAX_OUTPUT_BYTES = MAX_FILE_BYTES
MAX_NAME_CHARS = 100
#: processing: the largest width/height asked for
MAX_SIDE = 2048
CROPS = ("top", "bottom", "left", "right", "center")
RESIZES = ("clip", "crop", "scale", "fill")
FILE_ID = re.compile(r"[0-9a-f]{32}")
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_URL_PATH = re.compile(r"(?:/[^/]*)*/api/v1\.0/(files|images)/content/([0-9a-f]{32})/([^/]+)")
_SIDE = re.compile(r"[1-9][0-9]{0,4}")
#: types a browser may show inline from our origin; anything else is served as a download
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
                          "audio/mpeg", "audio/ogg", "audio/wav", "video/mp4", "video/webm", "text/plain"})


def new_id() -> str:
    return uuid.uuid4().hex


def clean_name(filename: str | None, fallback: str) -> str:
    """A file name safe in a URL path and a header: its last path component, letters, digits and
    ``. _ -`` (anything else becomes ``_``), at most ``MAX_NAME_CHARS``, never hidden or empty."""
    base = re.split(r"[/\\]", filename or "")[-1]
    name = _UNSAFE.sub("_", base).strip("._")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:10] if dot else ""
        name = (stem if dot else name)[:MAX_NAME_CHARS - len(ext) - 1].rstrip("._") + (f".{ext}" if ext else "")
    return name or fallback


def clean_content_type(value: str | None) -> str:
    """The part's declared type (parameters dropped) if it is a well-formed ``type/subtype``."""
    main = (value or "").split(";", 1)[0].strip().lower()
    return main if _CONTENT_TYPE.fullmatch(main) else "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Options:
    """Image processing (spec §2.11): ``w``/``h`` in pixels, ``resize`` clip|crop|scale|fill,
    ``crop`` one or two of top|bottom|left|right|center (``top,left``)."""

    w: int | None = None
    h: int | None = None
    crop: str = "center"
    resize: str = "clip"

    @property
    def empty(self) -> bool:
        return self.w is None and self.h is None

    def query(self) -> list[tuple[str, str]]:
        """The options as query pairs, in the one order the signature covers."""
        if self.empty:
            return []
        return [("w", "" if self.w is None else str(self.w)), ("h", "" if self.h is None else str(self.h)),
                ("crop", self.crop), ("resize", self.resize)]


def _side(query: dict[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    if _SIDE.fullmatch(value) is None or int(value) > MAX_SIDE:
        raise InputException.field(name, f"must be a whole number of pixels from 1 to {MAX_SIDE}")
    return int(value)


def options(query: dict[str, str], required: bool) -> Options:
    """Processing options from a query; with ``required`` at least one of ``w``/``h``."""
    w, h = _side(query, "w"), _side(query, "h")
    if required and w is None and h is None:
        raise InputException.field("w", "give w and/or h (pixels)")
    crop = query.get("crop") or "center"
    parts = crop.split(",")
    if len(parts) > 2 or any(p not in CROPS for p in parts):
        raise InputException.field("crop", f"must be one or two of {', '.join(CROPS)} (comma-separated)")
    resize = query.get("resize") or "clip"
    if resize not in RESIZES:
        raise InputException.field("resize", f"must be one of {', '.join(RESIZES)}")
    return Options(w, h, ",".join(parts), resize)


class Signer:
    """Signs and checks file URLs with a key derived from the API secret (never the secret itself:
    a URL signature must not be usable as anything else, and tokens are signed with the secret)."""

    def __init__(self, api_secret: str):
        self._key = hmac.new(api_secret.encode(), b"feedline media url v1", hashlib.sha256).digest()

    def sign(self, kind: str, file_id: str, name: str, opts: Options) -> str:
        text = "\n".join([kind, file_id, name, "&".join(f"{k}={v}" for k, v in opts.query())])
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:32]

    def valid(self, kind: str, file_id: str, name: str, opts: Options, sig: str) -> bool:
        return hmac.compare_digest(self.sign(kind, file_id, name, opts), sig)

    def url(self, origin: str, kind: str, file_id: str, name: str, opts: Options | None = None) -> str:
        opts = opts or Options()
        pairs = [*opts.query(), ("sig", self.sign(kind, file_id, name, opts))]
        return (f"{origin}/api/v1.0/{kind}/content/{file_id}/{quote(name)}?"
                + "&".join(f"{k}={quote(v, safe=',')}" for k, v in pairs))


@dataclass(frozen=True, slots=True)
class FileUrl:
    kind: str
    id: str
    name: str
    opts: Options
    sig: str


def parse_url(url: object) -> FileUrl | None:
    """The parts of one of our file URLs (any origin: a CDN may front the API), or None."""
    if not isinstance(url, str) or len(url) > 2048:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    found = _URL_PATH.fullmatch(parts.path)
    if found is None:
        return None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    try:
        opts = options(query, required=False)
    except InputException:
        return None
    return FileUrl(found.group(1), found.group(2), unquote(found.group(3)), opts, query.get("sig", ""))
