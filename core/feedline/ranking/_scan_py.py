"""Field scanning of stored activity bodies: pure-Python reference twin of ``_scan_c``.

``tagged(joined, tag, row_bytes) -> bool``: every row of a joined blob buffer starts with ``tag``.
``Scanner(paths)``: ``scan(bodies) -> array('d')`` column-major ``len(paths) x len(bodies)``;
    ``scan_one(body) -> array('d')``. Numbers only (booleans, strings, null, objects -> NaN); ``time``
    is the canonical ``"time"`` string (``YYYY-MM-DDTHH:MM:SS.ffffff``, UTC) in unix seconds.
    The reference decodes with ujson; the compiled twin scans the bytes. They agree on every body the
    write path can store (canonical compact JSON objects); on damaged bytes neither crashes, and
    they may differ (ujson is lenient about some malformed numbers).
"""

from __future__ import annotations

from array import array

import ujson

NAN = float("nan")


def tagged(joined: bytes, tag: bytes, row_bytes: int) -> bool:
    """Every ``row_bytes`` row of ``joined`` starts with ``tag`` (and the length is a multiple)."""
    if type(joined) is not bytes:
        raise TypeError("joined must be bytes")
    if row_bytes <= 0 or len(tag) > row_bytes:
        raise ValueError("row_bytes must be > 0 and hold the tag")
    if len(joined) % row_bytes:
        return False
    return all(joined.startswith(tag, at) for at in range(0, len(joined), row_bytes))


# --- field scanning -----------------------------------------------------------------------------

def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm, integer-only)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_time(text: str) -> float:
    """Unix seconds of a canonical ``YYYY-MM-DDTHH:MM:SS.ffffff`` time, NaN for anything else."""
    if len(text) != 26 or not text.isascii():
        return NAN
    t = text
    if t[4] != "-" or t[7] != "-" or t[10] != "T" or t[13] != ":" or t[16] != ":" or t[19] != ".":
        return NAN
    digits = t[0:4] + t[5:7] + t[8:10] + t[11:13] + t[14:16] + t[17:19] + t[20:26]
    if not digits.isdigit():  # ASCII checked above, so only 0-9
        return NAN
    y, mo, d, h, mi, s, f = (int(t[0:4]), int(t[5:7]), int(t[8:10]), int(t[11:13]), int(t[14:16]),
                             int(t[17:19]), int(t[20:26]))
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 61):
        return NAN
    us = (((_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s) * 1_000_000 + f
    return us / 1e6


class Scanner:
    __slots__ = ("paths", "_split")

    def __init__(self, paths) -> None:
        paths = tuple(paths)
        for p in paths:
            if not isinstance(p, str) or not p or any(not part for part in p.split(".")):
                raise ValueError(f"bad field path {p!r}")
        self.paths = paths
        self._split = [p.split(".") for p in paths]

    def _values(self, body: bytes, out: array, at: int, step: int) -> None:
        if not isinstance(body, bytes):
            raise TypeError("bodies must be bytes")
        try:
            doc = ujson.loads(body)
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        for j, parts in enumerate(self._split):
            if parts == ["time"]:
                v = doc.get("time")
                if isinstance(v, str):
                    out[at + j * step] = parse_time(v)
                continue
            v = doc
            for part in parts:
                if not isinstance(v, dict):
                    v = None
                    break
                v = v.get(part)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[at + j * step] = float(v)

    def scan(self, bodies) -> array:
        bodies = list(bodies)
        n = len(bodies)
        out = array("d", [NAN]) * (n * len(self.paths))
        for i, body in enumerate(bodies):
            self._values(body, out, i, n)
        return out

    def scan_one(self, body: bytes) -> array:
        out = array("d", [NAN]) * len(self.paths)
        self._values(body, out, 0, 1)
        return out
