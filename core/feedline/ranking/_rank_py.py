"""Column evaluation and top-k: pure-Python reference twin of ``_rank_c``.

Contract (both twins; the compiled one must return the very same doubles):

``Program(code, nregs, result)``
    ``code``: ``array('q')`` of ``ops.WIDTH``-int instructions (see ``ops``); validated here once
    (opcodes, register numbers, operand arity) so evaluation cannot go out of bounds.
``Program.evaluate(scalars, data, n, colmap, row_stride, col_stride, seed, rowids) -> array('d')``
    ``data``: a contiguous buffer of doubles (format ``d``) holding the window; field ``j`` of the
    program (``LOAD`` aux ``j``) of row ``i`` is ``data[colmap[j] * col_stride + i * row_stride]``
    (column-major: ``row_stride=1, col_stride=n``; row-major blobs of ``k`` fields: ``row_stride=k,
    col_stride=1``). NaN marks a missing value (the ``LOAD``'s default applies). ``scalars``: the
    request's scalar slots (constants, externals, request time), ``array('d')``. ``seed``: 64-bit
    seed of ``rand*``; ``rowids``: None (row identity = row index) or ``n * 16`` bytes of the rows'
    keys (identity = first 8 bytes XOR last 8, big-endian), so an activity keeps its random value
    when the window shifts. Returns the score of every row.
``Program.rank(..., k) -> (indices, scores)``: evaluate, then ``top_k``.
``top_k(scores, k) -> list[int]``: the ``k`` best rows, best first: higher score first, NaN last, ties
    by lower row index (rows are given newest first, i.e. id descending).
Field scanning of stored bodies lives in the ``_scan`` twins.
"""

from __future__ import annotations

import heapq
from array import array
from itertools import repeat
from math import exp as _exp
from math import log as _log

from feedline.ranking import ops

_ARITY = {ops.LOAD: 1, ops.MOV: 1, ops.TERN: 3, ops.DECAY_LINEAR: 4, ops.DECAY_EXP: 4, ops.DECAY_GAUSS: 4,
          ops.RAND0: 0, ops.RAND2: 2, ops.RANDN0: 0, ops.RANDN4: 4, ops.DIST: 5,
          **{o: 1 for o in ops.UNARY}, **{o: 2 for o in ops.BINARY}}
_M64 = ops.M64


def _check_program(code: array, nregs: int, result: int) -> int:
    """Validate a program; returns how many scalar slots it reads."""
    if not isinstance(code, array) or code.typecode != "q":
        raise TypeError("code must be an array('q')")
    if len(code) % ops.WIDTH:
        raise ValueError("code length is not a multiple of the instruction width")
    if not 0 <= result < nregs:
        raise ValueError("result register out of range")
    nscalars = 0
    for at in range(0, len(code), ops.WIDTH):
        op, dst = code[at], code[at + 1]
        if op not in _ARITY:
            raise ValueError(f"unknown opcode {op}")
        if not 0 <= dst < nregs:
            raise ValueError("destination register out of range")
        arity = _ARITY[op]
        for j in range(5):
            v = code[at + 2 + j]
            if j < arity:
                if v >= nregs:
                    raise ValueError("operand register out of range")
                if v < 0:
                    if v < -(1 << 40):
                        raise ValueError("operand slot out of range")
                    nscalars = max(nscalars, -v)
            elif v != ops.NONE:
                raise ValueError("operand given beyond the operation's arity")
        aux = code[at + 7]
        if aux < 0 or aux > (1 << 30):
            raise ValueError("aux out of range")
    return nscalars


def _decay_fast(op: int, xs, origin: float, offset: float, shape: float) -> list[float]:
    """``ops.decay`` over a column with constant parameters, in comprehensions (same operations in
    the same order); falls back to the per-value reference if exp overflows (a positive shape)."""
    ds = [abs(x - origin) - offset for x in xs]
    ds = [0.0 if v < 0.0 else v for v in ds]  # NaN stays NaN
    try:
        if op == ops.DECAY_GAUSS:
            return [_exp(v * v * shape) for v in ds]
        return [_exp(v * shape) for v in ds]
    except OverflowError:
        return [ops.exp(v * v * shape if op == ops.DECAY_GAUSS else v * shape) for v in ds]


def _rowid(rowids: bytes | None, i: int) -> int:
    if rowids is None:
        return i
    return int.from_bytes(rowids[16 * i:16 * i + 8], "big") ^ int.from_bytes(rowids[16 * i + 8:16 * i + 16], "big")


def _as_doubles(data) -> memoryview:
    mv = memoryview(data)
    if mv.format != "d" or mv.ndim != 1 or not mv.c_contiguous:
        raise TypeError("data must be a contiguous buffer of doubles (format 'd')")
    return mv


def check_window(nscalars: int, ncols: int, scalars, data, n: int, colmap, row_stride: int,
                 col_stride: int, seed: int, rowids) -> memoryview:
    """The input checks both twins make (the compiled one through this very function)."""
    if not isinstance(scalars, array) or scalars.typecode != "d":
        raise TypeError("scalars must be an array('d')")
    if len(scalars) < nscalars:
        raise ValueError("fewer scalars than the program reads")
    mv = _as_doubles(data)
    if n < 0 or row_stride < 0 or col_stride < 0:
        raise ValueError("n and strides must be >= 0")
    if len(colmap) < ncols:
        raise ValueError("colmap has fewer columns than the program loads")
    for c in colmap:
        if c < 0:
            raise ValueError("colmap entries must be >= 0")
        if n and (n - 1) * row_stride + c * col_stride >= len(mv):
            raise ValueError("the window buffer is too short for n rows of these columns")
    if not 0 <= seed <= _M64:
        raise ValueError("seed must be a 64-bit unsigned int")
    if rowids is not None:
        if not isinstance(rowids, bytes):
            raise TypeError("rowids must be bytes or None")
        if len(rowids) != 16 * n:
            raise ValueError("rowids must hold 16 bytes per row")
    return mv


class Program:
    __slots__ = ("code", "nregs", "result", "nscalars", "ncols")

    def __init__(self, code: array, nregs: int, result: int) -> None:
        self.nscalars = _check_program(code, nregs, result)
        self.code = list(code)
        self.nregs = nregs
        self.result = result
        self.ncols = max([self.code[i + 7] + 1 for i in range(0, len(self.code), ops.WIDTH)
                          if self.code[i] == ops.LOAD], default=0)

    def evaluate(self, scalars: array, data, n: int, colmap, row_stride: int, col_stride: int,  # noqa: C901 - one branch per opcode
                 seed: int, rowids: bytes | None = None) -> array:
        mv = check_window(self.nscalars, self.ncols, scalars, data, n, colmap, row_stride, col_stride, seed, rowids)
        if n == 0:
            return array("d")
        regs: list = [None] * self.nregs
        code = self.code

        def col(v: int):
            if v >= 0:
                return regs[v]
            return repeat(scalars[-1 - v], n)

        for at in range(0, len(code), ops.WIDTH):
            op, dst, a, b, c, d, e, aux = code[at:at + ops.WIDTH]
            if op == ops.LOAD:
                start = colmap[aux] * col_stride
                raw = mv[start:start + (n - 1) * row_stride + 1:row_stride] if row_stride else [mv[start]] * n
                dv = scalars[-1 - a]
                out = [dv if x != x else x for x in raw]
            elif op == ops.MOV:
                out = list(col(a))
            elif op == ops.ADD:
                out = [x + y for x, y in zip(col(a), col(b))]
            elif op == ops.SUB:
                out = [x - y for x, y in zip(col(a), col(b))]
            elif op == ops.MUL:
                out = [x * y for x, y in zip(col(a), col(b))]
            elif op == ops.DIV:
                out = [x / y if y != 0.0 else ops.div(x, y) for x, y in zip(col(a), col(b))]
            elif op == ops.NEG:
                out = [-x for x in col(a)]
            elif op == ops.LN:
                out = [_log(x) if x > 0.0 else ops.ln(x) for x in col(a)]
            elif op in ops.UNARY:
                f = ops.UNARY_FN[op]
                out = [f(x) for x in col(a)]
            elif op in ops.BINARY:
                f2 = ops.BINARY_FN[op]
                out = [f2(x, y) for x, y in zip(col(a), col(b))]
            elif op == ops.TERN:
                out = [y if x != 0.0 else z for x, y, z in zip(col(a), col(b), col(c))]
            elif op in (ops.DECAY_GAUSS, ops.DECAY_EXP) and b < 0 and c < 0 and d < 0:
                out = _decay_fast(op, col(a), scalars[-1 - b], scalars[-1 - c], scalars[-1 - d])
            elif op in (ops.DECAY_LINEAR, ops.DECAY_EXP, ops.DECAY_GAUSS):
                out = [ops.decay(op, x, o, off, sh) for x, o, off, sh in zip(col(a), col(b), col(c), col(d))]
            elif op == ops.RAND0:
                out = [ops.uniform(seed, _rowid(rowids, i), 2 * aux + 1) for i in range(n)]
            elif op == ops.RAND2:
                out = [lo + (hi - lo) * ops.uniform(seed, _rowid(rowids, i), 2 * aux + 1)
                       for i, lo, hi in zip(range(n), col(a), col(b))]
            elif op == ops.RANDN0:
                out = [ops.normal(seed, _rowid(rowids, i), aux) for i in range(n)]
            elif op == ops.RANDN4:
                out = [ops.clamp(mu + sg * ops.normal(seed, _rowid(rowids, i), aux), lo, hi)
                       for i, lo, hi, sg, mu in zip(range(n), col(a), col(b), col(c), col(d))]
            else:  # DIST
                out = [ops.dist(p, q, r, s, t) for p, q, r, s, t in zip(col(a), col(b), col(c), col(d), col(e))]
            regs[dst] = out
        return array("d", regs[self.result])

    def rank(self, scalars: array, data, n: int, colmap, row_stride: int, col_stride: int, seed: int,
             rowids: bytes | None, k: int) -> tuple[list[int], list[float]]:
        if k < 0:
            raise ValueError("k must be >= 0")
        scores = self.evaluate(scalars, data, n, colmap, row_stride, col_stride, seed, rowids)
        idx = top_k(scores, k)
        return idx, [scores[i] for i in idx]


def top_k(scores, k: int) -> list[int]:
    if k < 0:
        raise ValueError("k must be >= 0")
    s = memoryview(scores)
    if s.format != "d" or s.ndim != 1 or not s.c_contiguous:
        raise TypeError("scores must be a contiguous buffer of doubles")
    vals = s.tolist()
    if all(x == x for x in vals):  # no NaN: plain (score, -index) tuples order as required
        return [-i for _, i in heapq.nlargest(k, zip(vals, range(0, -len(vals), -1)))]
    return heapq.nsmallest(k, range(len(vals)), key=lambda i: (vals[i] != vals[i], 0.0 if vals[i] != vals[i] else -vals[i], i))
