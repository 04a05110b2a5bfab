"""Reference offsets of a stored activity: pure-Python reference twin of ``_refs_c``.

``find(body)`` walks the top level of one canonical activity (``feedline.serialization``: one
JSON object, no whitespace) and returns where its reference strings are: every top-level string
value beginning ``"SU:``, ``"SO:``, ``"SA:`` or ``"SR:`` (docs/api.md §13). The result is the
compact blob stored beside the body (``ActivityRecord.refs``): for each reference, in body order,
``start`` and ``end`` as little-endian uint16, the half-open byte range of the JSON string token
*including* its quotes. ``b""`` means "no references"; it never needs decoding at read time.

Offsets fit in 16 bits because an activity is at most 10 KB of UTF-8, which escapes to at most
61,440 bytes (``\\u00XX`` for each control byte); a longer body raises ValueError (the caller
stores no refs and the read path scans).

Strictness (both twins alike): the body must be one JSON object with no whitespace, string keys,
strings ``"..."`` with backslash escapes, nested values balanced in ``{}``/``[]``, top-level
scalars made of ``[0-9A-Za-z+.-]``, and nothing after the closing brace; anything else raises
ValueError. Nested values are skipped, not validated.
"""

from __future__ import annotations

import re

MAX_BODY = 0xFFFF
PREFIXES = (b"SU:", b"SO:", b"SA:", b"SR:")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(rb"[0-9A-Za-z+.\-]+")
#: a whole string, a lone (unterminated) quote, or a bracket
_NESTED = re.compile(rb'"(?:[^"\\]|\\.)*"|"|[\[\]{}]', re.DOTALL)


def _string_end(body: bytes, i: int) -> int:
    m = _STRING.match(body, i)
    if m is None:
        raise ValueError(f"unterminated or missing string at {i}")
    return m.end()


def _nested_end(body: bytes, i: int) -> int:
    depth = 0
    for m in _NESTED.finditer(body, i):
        tok = m.group()
        if tok[0] == 0x22:  # a string: skipped whole
            if len(tok) == 1:
                raise ValueError(f"unterminated string at {m.start()}")
            continue
        depth += 1 if tok in (b"{", b"[") else -1
        if depth == 0:
            return m.end()
        if depth < 0:
            break
    raise ValueError(f"unbalanced value at {i}")


def _value(body: bytes, i: int, out: bytearray) -> int:
    """Skip the top-level value at ``i`` (recording it if it is a reference); the index after it."""
    c = body[i]
    if c == 0x22:
        end = _string_end(body, i)
        if body[i + 1:i + 4] in PREFIXES:
            out += i.to_bytes(2, "little") + end.to_bytes(2, "little")
        return end
    if c == 0x7B or c == 0x5B:
        return _nested_end(body, i)
    m = _SCALAR.match(body, i)
    if m is None:
        raise ValueError(f"expected a value at {i}")
    return m.end()


def find(body: bytes) -> bytes:
    """The reference blob of ``body`` (see the module docs)."""
    if type(body) is not bytes:
        raise TypeError("body must be bytes")
    n = len(body)
    if n > MAX_BODY:
        raise ValueError("body too long for 16-bit offsets")
    if n < 2 or body[0] != 0x7B:
        raise ValueError("body is not a JSON object")
    out = bytearray()
    i = 1
    if body[1] == 0x7D:
        i = 2
    else:
        while True:
            if i >= n or body[i] != 0x22:
                raise ValueError(f"expected a key at {i}")
            i = _string_end(body, i)
            if i >= n or body[i] != 0x3A:
                raise ValueError(f"expected ':' at {i}")
            i += 1
            if i >= n:
                raise ValueError("truncated body")
            i = _value(body, i, out)
            if i >= n:
                raise ValueError("truncated body")
            if body[i] == 0x2C:
                i += 1
                continue
            if body[i] == 0x7D:
                i += 1
                break
            raise ValueError(f"expected ',' or '}}' at {i}")
    if i != n:
        raise ValueError("trailing bytes after the object")
    return bytes(out)
