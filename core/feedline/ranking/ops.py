"""Operation codes of a compiled score program and the scalar semantics of each operation.

A program is a flat ``array('q')`` of instructions, ``WIDTH`` int64 each:
``[op, dst, a, b, c, d, e, aux]``. ``dst`` is a register (a column of n doubles); operands ``a..e``
are encoded by ``reg(i)`` (register i, one value per row, ``>= 0``) or ``scalar(i)`` (slot i of the
request's scalar vector, the same value for every row, ``< 0``). Unused operands are ``NONE``.

The scalar functions below are the reference semantics (IEEE float64, as Go's ``math`` package and
C's libm, never an exception): the pure twin maps them over columns, the compiler folds constants with
them, and the compiled twin implements the same formulas in C with the same operation order, so both
twins agree to the last bit (tests/unit/test_ranking_parity.py checks it).
"""

from __future__ import annotations

import math

WIDTH = 8
NONE = -(1 << 62)

# opcodes (the compiled twin's switch uses the same numbers)
LOAD = 1  # dst <- column colmap[aux] of the window, NaN (missing) replaced by scalar a
MOV = 2  # dst <- a
NEG, NOT, ABS, LN, LOG10, SIN, COS, TAN, TRUNC, ROUND = range(10, 20)
ADD, SUB, MUL, DIV, POW, MIN, MAX = range(20, 27)
EQ, NE, LT, LE, GT, GE, AND, OR = range(30, 38)
TERN = 40  # dst <- a if a != 0 else ... : c ? a : b is encoded (a=cond, b=then, c=else)
DECAY_LINEAR, DECAY_EXP, DECAY_GAUSS = 50, 51, 52  # a=x, b=origin, c=offset, d=shape (see decay())
RAND0, RAND2, RANDN0, RANDN4 = 60, 61, 62, 63  # aux = call site (stream), a..d = arguments
DIST = 70  # a=lat1 b=lng1 c=lat2 d=lng2 e=earth radius in the unit asked for

UNARY = {NEG, NOT, ABS, LN, LOG10, SIN, COS, TAN, TRUNC, ROUND}
BINARY = {ADD, SUB, MUL, DIV, POW, MIN, MAX, EQ, NE, LT, LE, GT, GE, AND, OR}

INF = math.inf
NAN = math.nan
#: degrees -> radians, written out so both twins multiply by the very same double
DEG = 0.017453292519943295
TAU = 6.283185307179586
#: mean earth radius per ``dist`` unit: kilometres, statute miles, nautical miles
EARTH = {"km": 6371.0, "k": 6371.0, "m": 3958.7613, "mi": 3958.7613, "n": 3440.0648, "nm": 3440.0648}


def reg(i: int) -> int:
    return i


def scalar(i: int) -> int:
    return -1 - i


# --- scalar semantics ---------------------------------------------------------------------------
# CPython's math functions call the same libm but raise where C returns an IEEE special value; each
# wrapper returns what C returns instead.

def div(a: float, b: float) -> float:
    if b == 0.0:
        if a != a or a == 0.0:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)
    return a / b


def _odd_integer(y: float) -> bool:
    return math.isfinite(y) and math.fmod(y, 2.0) in (1.0, -1.0)


def pow_(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except ValueError:
        if a == 0.0:  # pole: 0 ** negative
            return math.copysign(INF, a) if _odd_integer(b) else INF
        return NAN  # negative ** non-integer
    except OverflowError:
        return -INF if a < 0.0 and _odd_integer(b) else INF


def ln(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -INF
    return NAN  # negative, -inf or NaN


def log10(x: float) -> float:
    if x > 0.0:
        return math.log10(x)
    if x == 0.0:
        return -INF
    return NAN


def sin(x: float) -> float:
    return math.sin(x) if math.isfinite(x) else NAN


def cos(x: float) -> float:
    return math.cos(x) if math.isfinite(x) else NAN


def tan(x: float) -> float:
    return math.tan(x) if math.isfinite(x) else NAN


def sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else NAN  # NaN >= 0 is false too


def exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def trunc(x: float) -> float:
    if not math.isfinite(x):
        return x
    return math.copysign(float(math.trunc(x)), x)  # keeps -0.0 for -0.5, as C's trunc


def round_(x: float) -> float:
    """Half away from zero (C's ``round``, Go's ``math.Round``); x - trunc(x) is exact."""
    if not math.isfinite(x):
        return x
    t = math.copysign(float(math.trunc(x)), x)
    if abs(x - t) >= 0.5:
        t += math.copysign(1.0, x)
    return t


def min_(a: float, b: float) -> float:
    """Go's ``math.Min``: NaN if either is NaN; -0 is smaller than +0."""
    if a != a or b != b:
        return NAN
    if a < b or (a == b and math.copysign(1.0, a) < 0.0):
        return a
    return b


def max_(a: float, b: float) -> float:
    if a != a or b != b:
        return NAN
    if a > b or (a == b and math.copysign(1.0, a) > 0.0):
        return a
    return b


def truth(x: float) -> bool:
    return x != 0.0  # NaN is true, as in C


def decay(kind: int, x: float, origin: float, offset: float, shape: float) -> float:
    """Elasticsearch's decay functions with ``shape`` precomputed from scale and decay:
    gauss ``ln(decay)/scale^2``, exp ``ln(decay)/scale``, linear ``scale/(1-decay)``."""
    d = abs(x - origin) - offset
    if d < 0.0:  # NaN stays NaN
        d = 0.0
    if kind == DECAY_GAUSS:
        return exp(d * d * shape)
    if kind == DECAY_EXP:
        return exp(d * shape)
    v = (shape - d) / shape
    return 0.0 if v < 0.0 else v


def dist(lat1: float, lng1: float, lat2: float, lng2: float, radius: float) -> float:
    """Great-circle distance (haversine) on a sphere of ``radius``."""
    s1 = sin((lat2 - lat1) * DEG * 0.5)
    s2 = sin((lng2 - lng1) * DEG * 0.5)
    h = s1 * s1 + cos(lat1 * DEG) * cos(lat2 * DEG) * s2 * s2
    return radius * 2.0 * math.atan2(sqrt(h), sqrt(1.0 - h))


def clamp(v: float, lo: float, hi: float) -> float:
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


# --- deterministic random numbers ---------------------------------------------------------------
M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64(z: int) -> int:
    """splitmix64's finaliser: a bijection of 64-bit ints that scatters every input bit."""
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & M64
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & M64
    return z ^ (z >> 31)


def uniform(seed: int, row: int, stream: int) -> float:
    """U[0,1) for one (row, call-site stream) under one request seed: a counter-based generator, so
    a row's value does not depend on which other rows are in the window or on evaluation order."""
    z = mix64((mix64((row + stream * GOLDEN) & M64) ^ seed) & M64)
    return (z >> 11) * 1.1102230246251565e-16  # 2**-53


def normal(seed: int, row: int, site: int) -> float:
    """N(0,1) by Box-Muller from the site's two streams; 1-u is in (0, 1], so ln never sees 0."""
    u1 = uniform(seed, row, 2 * site + 1)
    u2 = uniform(seed, row, 2 * site + 2)
    return sqrt(-2.0 * ln(1.0 - u1)) * cos(TAU * u2)


UNARY_FN = {
    NEG: lambda x: -x,
    NOT: lambda x: 0.0 if truth(x) else 1.0,
    ABS: abs,
    LN: ln,
    LOG10: log10,
    SIN: sin,
    COS: cos,
    TAN: tan,
    TRUNC: trunc,
    ROUND: round_,
}

BINARY_FN = {
    ADD: lambda a, b: a + b,
    SUB: lambda a, b: a - b,
    MUL: lambda a, b: a * b,
    DIV: div,
    POW: pow_,
    MIN: min_,
    MAX: max_,
    EQ: lambda a, b: 1.0 if a == b else 0.0,
    NE: lambda a, b: 1.0 if a != b else 0.0,
    LT: lambda a, b: 1.0 if a < b else 0.0,
    LE: lambda a, b: 1.0 if a <= b else 0.0,
    GT: lambda a, b: 1.0 if a > b else 0.0,
    GE: lambda a, b: 1.0 if a >= b else 0.0,
    AND: lambda a, b: 1.0 if truth(a) and truth(b) else 0.0,
    OR: lambda a, b: 1.0 if truth(a) or truth(b) else 0.0,
}
