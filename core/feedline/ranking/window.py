"""Ranked reads over a window of typed columns: the functions the read and write paths call.

Write time: ``FieldLayout(fields).extract(body)`` turns an activity's canonical JSON bytes into a
small blob stored with the activity (``feeds.ranked``): an 8-byte layout tag followed by one little-endian
double per field (NaN where the activity lacks the field or holds a non-number, so defaults apply at
read time; ``time`` in unix seconds).

Read time: ``layout.columns(blobs, bodies)`` joins the window's blobs into one row-major buffer (no
per-row work when every blob carries the layout's tag) and scans the stored bodies of the rows whose
blob is missing or from another layout (a method added after the data was written). Then
``rank(method, columns, ...)`` evaluates the compiled program column by column and selects the page.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import struct
import time as _time
from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from feedline._ext import load
from feedline.ranking.compile import EXTERNAL, TIME
from feedline.ranking.config import RankingMethod

_scan = load("feedline.ranking._scan")


class RankingVarsError(ValueError):
    """``ranking_vars`` is not a JSON object (the API answers 400)."""


def parse_ranking_vars(text: str | None) -> dict[str, Any]:
    """The URL-decoded ``ranking_vars`` (or ``rankingVars``) parameter -> dict; raises
    RankingVarsError for anything but a JSON object (arrays, scalars, NaN, bad JSON)."""
    if text is None:
        return {}
    if not isinstance(text, str):
        raise RankingVarsError("ranking_vars must be a JSON object")

    def no_constants(name: str) -> float:
        raise RankingVarsError(f"ranking_vars: {name} is not JSON")

    try:
        value = json.loads(text, parse_constant=no_constants)
    except (ValueError, RecursionError):
        raise RankingVarsError("ranking_vars must be a JSON object") from None
    if not isinstance(value, dict):
        raise RankingVarsError("ranking_vars must be a JSON object, not " + type(value).__name__)
    return value


def seed_for(session: str | None) -> int:
    """The 64-bit seed of ``rand*``: from the ``session`` read param when given (stable across the
    pages of a session), else fresh per request."""
    if session:
        return int.from_bytes(hashlib.blake2b(session.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
    return random.getrandbits(64)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def _lookup(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(part)
    return doc


class FieldLayout:
    """The numeric fields stored per activity (the union of the methods' columns, sorted), their
    blob format and the fallback scanner."""

    __slots__ = ("fields", "index", "tag", "row_bytes", "_scanner")

    def __init__(self, fields: Iterable[str]) -> None:
        self.fields = tuple(sorted(set(fields)))
        self.index = {f: j for j, f in enumerate(self.fields)}
        # a signalling-NaN bit pattern (arithmetic and number parsing never produce one) whose payload
        # is a hash of the field list: a blob written under another layout never matches
        h = int.from_bytes(hashlib.blake2b(",".join(self.fields).encode(), digest_size=8).digest(), "little")
        self.tag = struct.pack("<Q", 0x7FF4000000000000 | (h & 0x0003FFFFFFFFFFFF))
        self.row_bytes = 8 * (len(self.fields) + 1)
        self._scanner = _scan.Scanner(self.fields)

    @classmethod
    def of(cls, methods: Iterable[RankingMethod]) -> FieldLayout:
        return cls(f for m in methods for f in m.columns)

    def extract(self, body: bytes) -> bytes:
        """Write time: the blob of one activity's canonical JSON bytes."""
        return self.tag + self._scanner.scan_one(body).tobytes()

    def scan(self, bodies: Sequence[bytes]) -> Columns:
        """Fallback: the window's columns straight from stored bodies (compiled: a byte scanner)."""
        data = self._scanner.scan(bodies)
        n = len(bodies)
        return Columns(self, memoryview(data), n, 1, n, 0)

    def columns(self, blobs: Sequence[bytes | None], bodies: Sequence[bytes] | None = None) -> Columns:
        """The window's columns from its stored blobs (newest first). Rows whose blob is missing or
        from another layout are extracted from ``bodies`` (same order), which are then required."""
        n = len(blobs)
        try:
            joined = b"".join(blobs)  # type: ignore[arg-type]
        except TypeError:  # a None: some rows have no blob
            joined = b""
        if len(joined) != n * self.row_bytes or not _scan.tagged(joined, self.tag, self.row_bytes):
            if bodies is None or len(bodies) != n:
                raise ValueError("some ranking columns are missing: the window's bodies are needed")
            rb, tag = self.row_bytes, self.tag
            joined = b"".join(b if b is not None and len(b) == rb and b.startswith(tag) else self.extract(body)
                              for b, body in zip(blobs, bodies))
        data: memoryview[Any] = memoryview(joined).cast("d") if joined else memoryview(array("d"))
        return Columns(self, data, n, len(self.fields) + 1, 1, 1)


class Columns:
    """A window's fields as doubles: value (row i, field j) at ``data[(off + j) * col_stride + i *
    row_stride]``."""

    __slots__ = ("layout", "data", "n", "row_stride", "col_stride", "offset")

    def __init__(self, layout: FieldLayout, data: memoryview, n: int, row_stride: int, col_stride: int,
                 offset: int) -> None:
        self.layout, self.data, self.n = layout, data, n
        self.row_stride, self.col_stride, self.offset = row_stride, col_stride, offset

    def colmap(self, fields: Sequence[str]) -> list[int]:
        try:
            return [self.offset + self.layout.index[f] for f in fields]
        except KeyError as exc:
            raise ValueError(f"the window has no column {exc.args[0]!r}") from None

    def value(self, field: str, row: int) -> float:
        return self.data[(self.offset + self.layout.index[field]) * self.col_stride + row * self.row_stride]


class Ranked(NamedTuple):
    """The page: window row indices best first, their scores, and ``score_vars`` when asked."""

    indices: list[int]
    scores: list[float]
    score_vars: list[dict[str, Any]] | None


def externals(method: RankingMethod, ranking_vars: Mapping[str, Any] | None) -> list[float]:
    """Values of the method's ``external.*`` variables: the ranking var when it is a number, else the
    default (booleans, strings and objects count as missing, like activity fields)."""
    out = []
    for name in method.externals:
        v = _number(_lookup(ranking_vars, name)) if ranking_vars else None
        out.append(method.defaults[EXTERNAL + name] if v is None else v)
    return out


def rank(method: RankingMethod, columns: Columns, *, offset: int = 0, limit: int = 25, now: float | None = None,
         ranking_vars: Mapping[str, Any] | None = None, session: str | None = None,
         rowids: bytes | None = None, with_vars: bool = False) -> Ranked:
    """Score every row of the window and return rows ``offset .. offset+limit`` of the ranking.

    ``now``: request time in unix seconds (origin of decays over ``time``), default the clock.
    ``rowids``: the rows' 16-byte keys joined, so ``rand*`` values follow activities rather than
    window positions (only read when the method uses ``rand``). Ties: lower row index first, i.e. id
    descending, since windows are given newest first.
    """
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit must be >= 0")
    prog = method.program
    ext = externals(method, ranking_vars)
    scalars = prog.scalars(ext, _time.time() if now is None else now)
    seed = seed_for(session) if prog.uses_rand else 0
    idx, scores = method.runner.rank(scalars, columns.data, columns.n, columns.colmap(prog.fields), columns.row_stride,
                              columns.col_stride, seed, rowids if prog.uses_rand else None, offset + limit)
    idx, scores = idx[offset:], scores[offset:]
    sv = _score_vars(method, columns, idx, ext) if with_vars else None
    return Ranked(idx, scores, sv)


def _score_vars(method: RankingMethod, columns: Columns, rows: list[int], ext: list[float]) -> list[dict[str, Any]]:
    """``score_vars`` of the page's rows: where each variable comes from is resolved once."""
    ext_of = dict(zip(method.externals, ext))
    data, rs = columns.data, columns.row_stride
    plan: list[tuple[list[str], str, float | None, int, float]] = []  # (parents, leaf, constant, offset, default)
    for path in method.fields:
        *parents, leaf = path.split(".")
        if path.startswith(EXTERNAL):
            plan.append((parents, leaf, ext_of[path[len(EXTERNAL):]], 0, 0.0))
        else:
            at = (columns.offset + columns.layout.index[path]) * columns.col_stride
            plan.append((parents, leaf, None, at, math.nan if path == TIME else method.defaults[path]))
    out = []
    for row in rows:
        doc: dict[str, Any] = {}
        for parents, leaf, const, at, default in plan:
            if const is None:
                v = data[at + row * rs]
                const_v = default if v != v else v
            else:
                const_v = const
            node = doc
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = const_v
        out.append(doc)
    return out


def score_vars(method: RankingMethod, columns: Columns, row: int, ext: list[float]) -> dict[str, Any]:
    """Every variable the score read for one row, with the value used (defaults applied); dotted
    paths (``external.x``, ``meta.score``) nested as objects."""
    return _score_vars(method, columns, [row], ext)[0]


def _vars_json(doc: Mapping[str, Any]) -> str:
    """JSON of a score_vars object: keys are identifiers (validated paths), values floats or
    nested objects; NaN and infinities (not JSON) are written as null."""
    parts = []
    for k, v in doc.items():
        if isinstance(v, Mapping):
            parts.append(f'"{k}":{_vars_json(v)}')
        else:
            v = float(v)
            parts.append(f'"{k}":{v!r}' if math.isfinite(v) else f'"{k}":null')
    return "{" + ",".join(parts) + "}"


def with_score(body: bytes, score: float, variables: Mapping[str, Any] | None = None) -> bytes:
    """A stored activity body with ``"score"`` (and ``"score_vars"``) spliced in before the closing
    brace. JSON has no NaN or infinity: such a score is written as null."""
    tail = b',"score":' + (repr(score).encode() if math.isfinite(score) else b"null")
    if variables is not None:
        tail += b',"score_vars":' + _vars_json(variables).encode("ascii")
    return body[:-1] + tail + b"}"
