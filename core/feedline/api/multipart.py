"""``multipart/form-data`` request bodies (RFC 7578): the parts of a form, strictly.

Uploads (``POST /files/``, ``/images/``) are forms with a ``file`` field, as stream-js and browsers
send them. The body arrives whole in the event (base64 when binary), so this splits bytes already
in memory; anything malformed is an InputException (a 400 in Stream's envelope), never a guess.
The stdlib has no form parser left (``cgi`` is gone in 3.13) and the ``email`` parser is lenient
by design, so this is a small strict one.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from feedline.errors import InputException

if TYPE_CHECKING:
    from feedline.api.request import Request

#: more parts than a form of ours has is not a form of ours
MAX_PARTS = 16
MAX_HEADER_BYTES = 8192
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,./:=?-]{1,70}")
_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
_HEADER = re.compile(r"([A-Za-z0-9!#$%&'*+.^_`|~-]+):[ \t]*(.*)")


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def _bad(detail: str) -> InputException:
    return InputException(f"the multipart form is malformed: {detail}", {"file": [detail]})


def _params(value: str) -> tuple[str, dict[str, str]]:
    """``form-data; name="file"; filename="a.png"`` -> ``("form-data", {...})``; an RFC 5987
    ``filename*=UTF-8''na%C3%AFve.png`` wins over a plain ``filename`` (RFC 6266)."""
    head, _, rest = value.partition(";")
    plain: dict[str, str] = {}
    extended: dict[str, str] = {}
    for key, raw in _PARAM.findall(";" + rest):
        key = key.lower()
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        if key.endswith("*"):
            charset, _, encoded = raw.partition("''")
            try:
                extended.setdefault(key[:-1], unquote(encoded, encoding=charset or "utf-8", errors="strict"))
            except (LookupError, UnicodeDecodeError):
                continue
        else:
            plain.setdefault(key, raw)
    return head.strip().lower(), {**plain, **extended}


def boundary(content_type: str | None) -> bytes:
    kind, params = _params(content_type or "")
    if kind != "multipart/form-data":
        raise InputException("the request must be a multipart/form-data form with a file field",
                             {"file": ["expected Content-Type: multipart/form-data"]})
    value = params.get("boundary", "")
    if _BOUNDARY.fullmatch(value) is None or value.endswith(" "):
        raise _bad("the boundary parameter is missing or invalid")
    return value.encode("ascii")


def _part(chunk: bytes) -> Part:
    head, sep, data = chunk.partition(b"\r\n\r\n")
    if not sep:
        if chunk.startswith(b"\r\n"):  # no headers at all: the part has no name
            raise _bad("a part has no Content-Disposition")
        raise _bad("a part's headers do not end")
    if len(head) > MAX_HEADER_BYTES:
        raise _bad("a part's headers are too long")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        found = _HEADER.fullmatch(line)
        if found is None:
            raise _bad("a part has an invalid header line")
        headers[found.group(1).lower()] = found.group(2).strip()
    disposition, params = _params(headers.get("content-disposition", ""))
    if disposition != "form-data" or not params.get("name"):
        raise _bad("a part's Content-Disposition is not form-data with a name")
    return Part(params["name"], params.get("filename"), headers.get("content-type"), data)


def parse(body: bytes, content_type: str | None) -> list[Part]:
    """The parts of a multipart/form-data body, in order."""
    delimiter = b"\r\n--" + boundary(content_type)
    pieces = (b"\r\n" + body).split(delimiter)
    if len(pieces) < 3:
        raise _bad("no part, or no closing boundary")
    parts: list[Part] = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            return parts  # the close delimiter: what follows is the epilogue
        if len(parts) >= MAX_PARTS:
            raise _bad(f"more than {MAX_PARTS} parts")
        line_end = piece.find(b"\r\n")
        if line_end < 0 or piece[:line_end].strip(b" \t"):
            raise _bad("a boundary line carries other text")
        parts.append(_part(piece[line_end + 2:]))
    raise _bad("the closing boundary is missing (a truncated body?)")


def body_bytes(req: Request) -> bytes:
    raw = req.event.get("body")
    if raw is None or raw == "":
        raise InputException("request body is missing: expected a multipart/form-data form",
                             {"file": ["required"]})
    if req.event.get("isBase64Encoded"):
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise _bad("the body is not valid base64") from None
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)


def file_field(req: Request, name: str = "file") -> Part:
    """The one part named ``name`` of the request's form (with a file name or not)."""
    headers = req.headers
    content_type = headers.get("content-type") or headers.get("Content-Type")
    parts = [p for p in parse(body_bytes(req), content_type) if p.name == name]
    if len(parts) != 1:
        raise InputException.field(name, "the form must have exactly one file field" if parts
                                   else "required: the form has no file field")
    return parts[0]
