# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Column evaluation and top-k: compiled twin of ``_rank_py`` (contract there).

Why compiled: a ranked read scores the whole window (1,000 rows) on every request. Interpreting the
expression per row costs ~0.5 µs a row (PERF-NOTES); here each instruction is one C loop over all
rows of typed memory (registers are columns of doubles in one malloc'd block), so the interpreter's
dispatch is paid once per operation, not once per row, and no Python object is touched until the
k results are returned. Every formula is written in the same operation order as ``ops`` (the
reference), so results are bit-identical: x86-64's baseline has no FMA, so nothing is contracted.

Programs are validated by the reference's own ``_check_program`` at construction; each call makes
the checks of ``_rank_py.check_window`` (same exceptions) before any pointer is formed.
"""

from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBuffer_IsContiguous, PyBUF_FORMAT, PyBUF_ND, \
    PyBUF_STRIDES
from libc.math cimport log, log10, sin, cos, tan, fabs, trunc, round, pow, exp, sqrt, atan2, copysign
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport qsort
from libc.string cimport memcpy, strcmp

from array import array

from feedline.ranking import ops as _ops
from feedline.ranking._rank_py import _check_program

cdef double NAN_ = float("nan")

cdef int64_t _NONE = _ops.NONE

# opcodes, mirrored from ops (checked against it at import below)
cdef enum:
    W = 8
    LOAD = 1
    MOV = 2
    NEG = 10
    NOT_ = 11
    ABS = 12
    LN = 13
    LOG10_ = 14
    SIN = 15
    COS = 16
    TAN = 17
    TRUNC = 18
    ROUND = 19
    ADD = 20
    SUB = 21
    MUL = 22
    DIV = 23
    POW = 24
    MIN = 25
    MAX = 26
    EQ = 30
    NE = 31
    LT = 32
    LE = 33
    GT = 34
    GE = 35
    AND_ = 36
    OR_ = 37
    TERN = 40
    DECAY_LINEAR = 50
    DECAY_EXP = 51
    DECAY_GAUSS = 52
    RAND0 = 60
    RAND2 = 61
    RANDN0 = 62
    RANDN4 = 63
    DIST = 70

assert (_ops.LOAD, _ops.MOV, _ops.NEG, _ops.ROUND, _ops.ADD, _ops.MAX, _ops.EQ, _ops.OR, _ops.TERN,
        _ops.DECAY_LINEAR, _ops.DECAY_GAUSS, _ops.RAND0, _ops.RANDN4, _ops.DIST, _ops.WIDTH) == (
        LOAD, MOV, NEG, ROUND, ADD, MAX, EQ, OR_, TERN, DECAY_LINEAR, DECAY_GAUSS, RAND0, RANDN4, DIST, W)

cdef double DEG = 0.017453292519943295
cdef double TAU = 6.283185307179586
cdef uint64_t GOLDEN = 0x9E3779B97F4A7C15ULL


# --- scalar semantics, same order of operations as ops -----------------------------------------

cdef inline double c_min(double a, double b) nogil:
    if a != a or b != b:
        return NAN_
    if a < b or (a == b and copysign(1.0, a) < 0.0):
        return a
    return b


cdef inline double c_max(double a, double b) nogil:
    if a != a or b != b:
        return NAN_
    if a > b or (a == b and copysign(1.0, a) > 0.0):
        return a
    return b


cdef inline double c_decay(int kind, double x, double origin, double offset, double shape) nogil:
    cdef double d = fabs(x - origin) - offset
    cdef double v
    if d < 0.0:
        d = 0.0
    if kind == DECAY_GAUSS:
        return exp(d * d * shape)
    if kind == DECAY_EXP:
        return exp(d * shape)
    v = (shape - d) / shape
    return 0.0 if v < 0.0 else v


cdef inline double c_dist(double lat1, double lng1, double lat2, double lng2, double radius) nogil:
    cdef double s1 = sin((lat2 - lat1) * DEG * 0.5)
    cdef double s2 = sin((lng2 - lng1) * DEG * 0.5)
    cdef double h = s1 * s1 + cos(lat1 * DEG) * cos(lat2 * DEG) * s2 * s2
    return radius * 2.0 * atan2(sqrt(h), sqrt(1.0 - h))


cdef inline double c_clamp(double v, double lo, double hi) nogil:
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


cdef inline uint64_t mix64(uint64_t z) nogil:
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline double c_uniform(uint64_t seed, uint64_t row, uint64_t stream) nogil:
    cdef uint64_t z = mix64(mix64(row + stream * GOLDEN) ^ seed)
    return <double>(z >> 11) * 1.1102230246251565e-16


cdef inline double c_normal(uint64_t seed, uint64_t row, uint64_t site) nogil:
    cdef double u1 = c_uniform(seed, row, 2 * site + 1)
    cdef double u2 = c_uniform(seed, row, 2 * site + 2)
    return sqrt(-2.0 * log(1.0 - u1)) * cos(TAU * u2)


cdef inline uint64_t be64(const unsigned char* p) nogil:
    cdef uint64_t v = 0
    cdef int j
    for j in range(8):
        v = (v << 8) | p[j]
    return v


cdef inline uint64_t rowid(const unsigned char* ids, Py_ssize_t i) nogil:
    if ids == NULL:
        return <uint64_t>i
    return be64(ids + 16 * i) ^ be64(ids + 16 * i + 8)


# --- the column machine --------------------------------------------------------------------------

cdef inline const double* operand(int64_t v, double* regs, Py_ssize_t n, const double* sc, Py_ssize_t* stride) nogil:
    if v >= 0:
        stride[0] = 1
        return regs + v * n
    stride[0] = 0
    return sc + (-1 - v)


cdef void run(const int64_t* code, Py_ssize_t ninstr, double* regs, const double* sc, const double* data,
              Py_ssize_t n, const Py_ssize_t* colmap, Py_ssize_t rs, Py_ssize_t cs, uint64_t seed,
              const unsigned char* ids) noexcept nogil:
    cdef Py_ssize_t k, i, sa = 0, sb = 0, sc_ = 0, sd = 0, se = 0
    cdef const int64_t* ins
    cdef int op
    cdef double* out
    cdef const double* A
    cdef const double* B
    cdef const double* C
    cdef const double* D
    cdef const double* E
    cdef const double* src
    cdef double x, y, z, dv
    cdef uint64_t site
    for k in range(ninstr):
        ins = code + k * W
        op = <int>ins[0]
        out = regs + ins[1] * n
        site = <uint64_t>ins[7]
        if op == LOAD:
            A = operand(ins[2], regs, n, sc, &sa)
            dv = A[0]
            src = data + colmap[ins[7]] * cs
            for i in range(n):
                x = src[i * rs]
                out[i] = dv if x != x else x
            continue
        A = operand(ins[2], regs, n, sc, &sa) if ins[2] != _NONE else NULL
        B = operand(ins[3], regs, n, sc, &sb) if ins[3] != _NONE else NULL
        C = operand(ins[4], regs, n, sc, &sc_) if ins[4] != _NONE else NULL
        D = operand(ins[5], regs, n, sc, &sd) if ins[5] != _NONE else NULL
        E = operand(ins[6], regs, n, sc, &se) if ins[6] != _NONE else NULL
        if op == ADD:  # column/column, column/scalar, scalar/column: unit strides vectorise
            if sa and sb:
                for i in range(n):
                    out[i] = A[i] + B[i]
            elif sa:
                y = B[0]
                for i in range(n):
                    out[i] = A[i] + y
            elif sb:
                x = A[0]
                for i in range(n):
                    out[i] = x + B[i]
            else:
                x = A[0] + B[0]
                for i in range(n):
                    out[i] = x
        elif op == SUB:  # column/column, column/scalar, scalar/column: unit strides vectorise
            if sa and sb:
                for i in range(n):
                    out[i] = A[i] - B[i]
            elif sa:
                y = B[0]
                for i in range(n):
                    out[i] = A[i] - y
            elif sb:
                x = A[0]
                for i in range(n):
                    out[i] = x - B[i]
            else:
                x = A[0] - B[0]
                for i in range(n):
                    out[i] = x
        elif op == MUL:  # column/column, column/scalar, scalar/column: unit strides vectorise
            if sa and sb:
                for i in range(n):
                    out[i] = A[i] * B[i]
            elif sa:
                y = B[0]
                for i in range(n):
                    out[i] = A[i] * y
            elif sb:
                x = A[0]
                for i in range(n):
                    out[i] = x * B[i]
            else:
                x = A[0] * B[0]
                for i in range(n):
                    out[i] = x
        elif op == DIV:  # column/column, column/scalar, scalar/column: unit strides vectorise
            if sa and sb:
                for i in range(n):
                    out[i] = A[i] / B[i]
            elif sa:
                y = B[0]
                for i in range(n):
                    out[i] = A[i] / y
            elif sb:
                x = A[0]
                for i in range(n):
                    out[i] = x / B[i]
            else:
                x = A[0] / B[0]
                for i in range(n):
                    out[i] = x
        elif op == MOV:
            for i in range(n):
                out[i] = A[i * sa]
        elif op == NEG:
            for i in range(n):
                out[i] = -A[i * sa]
        elif op == NOT_:
            for i in range(n):
                out[i] = 0.0 if A[i * sa] != 0.0 else 1.0
        elif op == ABS:
            for i in range(n):
                out[i] = fabs(A[i * sa])
        elif op == LN:
            for i in range(n):
                out[i] = log(A[i * sa])
        elif op == LOG10_:
            for i in range(n):
                out[i] = log10(A[i * sa])
        elif op == SIN:
            for i in range(n):
                out[i] = sin(A[i * sa])
        elif op == COS:
            for i in range(n):
                out[i] = cos(A[i * sa])
        elif op == TAN:
            for i in range(n):
                out[i] = tan(A[i * sa])
        elif op == TRUNC:
            for i in range(n):
                out[i] = trunc(A[i * sa])
        elif op == ROUND:
            for i in range(n):
                out[i] = round(A[i * sa])
        elif op == POW:
            for i in range(n):
                out[i] = pow(A[i * sa], B[i * sb])
        elif op == MIN:
            for i in range(n):
                out[i] = c_min(A[i * sa], B[i * sb])
        elif op == MAX:
            for i in range(n):
                out[i] = c_max(A[i * sa], B[i * sb])
        elif op == EQ:
            for i in range(n):
                out[i] = 1.0 if A[i * sa] == B[i * sb] else 0.0
        elif op == NE:
            for i in range(n):
                out[i] = 1.0 if A[i * sa] != B[i * sb] else 0.0
        elif op == LT:
            for i in range(n):
                out[i] = 1.0 if A[i * sa] < B[i * sb] else 0.0
        elif op == LE:
            for i in range(n):
                out[i] = 1.0 if A[i * sa] <= B[i * sb] else 0.0
        elif op == GT:
            for i in range(n):
                out[i] = 1.0 if A[i * sa] > B[i * sb] else 0.0
        elif op == GE:
            for i in range(n):
                out[i] = 1.0 if A[i * sa] >= B[i * sb] else 0.0
        elif op == AND_:
            for i in range(n):
                out[i] = 1.0 if (A[i * sa] != 0.0 and B[i * sb] != 0.0) else 0.0
        elif op == OR_:
            for i in range(n):
                out[i] = 1.0 if (A[i * sa] != 0.0 or B[i * sb] != 0.0) else 0.0
        elif op == TERN:
            for i in range(n):
                out[i] = B[i * sb] if A[i * sa] != 0.0 else C[i * sc_]
        elif (op == DECAY_GAUSS or op == DECAY_EXP) and not (sb or sc_ or sd):
            # the usual case (constant parameters): the same formula as c_decay, hoisted per kind
            dv, x, y = B[0], C[0], D[0]
            if op == DECAY_GAUSS:
                for i in range(n):
                    z = fabs(A[i * sa] - dv) - x
                    if z < 0.0:
                        z = 0.0
                    out[i] = exp(z * z * y)
            else:
                for i in range(n):
                    z = fabs(A[i * sa] - dv) - x
                    if z < 0.0:
                        z = 0.0
                    out[i] = exp(z * y)
        elif op == DECAY_LINEAR or op == DECAY_EXP or op == DECAY_GAUSS:
            for i in range(n):
                out[i] = c_decay(op, A[i * sa], B[i * sb], C[i * sc_], D[i * sd])
        elif op == RAND0:
            for i in range(n):
                out[i] = c_uniform(seed, rowid(ids, i), 2 * site + 1)
        elif op == RAND2:
            for i in range(n):
                x = A[i * sa]
                out[i] = x + (B[i * sb] - x) * c_uniform(seed, rowid(ids, i), 2 * site + 1)
        elif op == RANDN0:
            for i in range(n):
                out[i] = c_normal(seed, rowid(ids, i), site)
        elif op == RANDN4:
            for i in range(n):
                out[i] = c_clamp(D[i * sd] + C[i * sc_] * c_normal(seed, rowid(ids, i), site), A[i * sa], B[i * sb])
        elif op == DIST:
            for i in range(n):
                out[i] = c_dist(A[i * sa], B[i * sb], C[i * sc_], D[i * sd], E[i * se])




# --- top-k ----------------------------------------------------------------------------------------

cdef inline bint better(double a, Py_ssize_t i, double b, Py_ssize_t j) noexcept nogil:
    """Row i ranks before row j: higher score, NaN last, ties by lower index (newer)."""
    if a != a:
        return b != b and i < j
    if b != b:
        return True
    if a != b:
        return a > b
    return i < j


cdef inline uint64_t order_key(double x) noexcept nogil:
    """An unsigned int that orders like ``better`` orders scores: NaN lowest, -0 == +0. Integer keys
    make the selection's comparisons cheap and branch-light."""
    cdef uint64_t bits
    if x != x:
        return 0
    if x == 0.0:
        x = 0.0
    memcpy(&bits, &x, 8)
    if bits >> 63:
        return ~bits
    return bits | (<uint64_t>1 << 63)


cdef inline bint kbetter(const uint64_t* key, Py_ssize_t i, Py_ssize_t j) noexcept nogil:
    return key[i] > key[j] or (key[i] == key[j] and i < j)


cdef const uint64_t* _sort_keys


cdef int _cmp(const void* x, const void* y) noexcept nogil:
    cdef Py_ssize_t i = (<const Py_ssize_t*>x)[0]
    cdef Py_ssize_t j = (<const Py_ssize_t*>y)[0]
    if i == j:
        return 0
    return -1 if kbetter(_sort_keys, i, j) else 1


cdef inline void sift_down(const uint64_t* key, Py_ssize_t* h, Py_ssize_t m, Py_ssize_t p) noexcept nogil:
    """Restore the heap below p: every parent ranks *after* its children (the root is the worst)."""
    cdef Py_ssize_t c, x = h[p]
    while True:
        c = 2 * p + 1
        if c >= m:
            break
        if c + 1 < m and kbetter(key, h[c], h[c + 1]):
            c += 1  # the worse child
        if not kbetter(key, x, h[c]):
            break
        h[p] = h[c]
        p = c
    h[p] = x


cdef inline Py_ssize_t heap_offer(const uint64_t* key, Py_ssize_t* h, Py_ssize_t m, Py_ssize_t k,
                                  Py_ssize_t i) noexcept nogil:
    """Offer row i to a heap of the best k; returns the new size."""
    cdef Py_ssize_t p, c
    if m < k:
        p = m
        while p > 0:  # sift up: the new row climbs while it ranks after its parent
            c = (p - 1) // 2
            if not kbetter(key, h[c], i):
                break
            h[p] = h[c]
            p = c
        h[p] = i
        return m + 1
    if kbetter(key, i, h[0]):
        h[0] = i
        sift_down(key, h, m, 0)
    return m


cdef Py_ssize_t select(const double* s, Py_ssize_t n, Py_ssize_t k, Py_ssize_t* best, uint64_t* key) noexcept nogil:
    """The k best rows into ``best`` (best first); returns min(k, n). ``key``: scratch of n.

    A heap of the best k whose root is the worst of them. Scores that rise along the window (old
    rows scoring higher) would replace the root on most rows, so a threshold is taken first: the
    k-th best of an evenly spaced sample of ~4k rows. At least k rows rank at or above it, so rows
    below it cannot be in the result and cost one integer comparison; only ~n/4 candidates reach the
    heap in the worst case. The heap is then sorted by moving its worst to the back."""
    global _sort_keys
    cdef Py_ssize_t m = 0, i, p, x, step, tk
    cdef uint64_t tkey
    if k > n:
        k = n
    if k == 0:
        return 0
    if k * 4 > n:  # most of the window: a full sort is as cheap
        for i in range(n):
            key[i] = order_key(s[i])
            best[i] = i
        _sort_keys = key  # the GIL is held by the caller: no concurrent select
        qsort(best, n, sizeof(Py_ssize_t), _cmp)
        return k
    step = n // (4 * k)
    if step >= 2:
        i = 0
        while i < n:
            key[i] = order_key(s[i])
            m = heap_offer(key, best, m, k, i)
            i += step
        tk = best[0]  # k-th best of the sample (the sample has >= 4k rows, so m == k)
        tkey = key[tk]
        m = 0
        for i in range(n):
            key[i] = order_key(s[i])
            if key[i] > tkey or (key[i] == tkey and i <= tk):
                m = heap_offer(key, best, m, k, i)
    else:
        for i in range(n):
            key[i] = order_key(s[i])
            m = heap_offer(key, best, m, k, i)
    p = m
    while p > 1:
        p -= 1
        x = best[0]
        best[0] = best[p]
        best[p] = x
        sift_down(key, best, p, 0)
    return m


cdef class Program:
    cdef int64_t* code
    cdef Py_ssize_t ninstr
    cdef readonly Py_ssize_t nregs, result, nscalars, ncols

    def __cinit__(self):
        self.code = NULL

    def __init__(self, code, Py_ssize_t nregs, Py_ssize_t result):
        self.nscalars = _check_program(code, nregs, result)
        cdef Py_ssize_t i, m = len(code)
        self.code = <int64_t*>PyMem_Malloc((m if m else 1) * sizeof(int64_t))
        if self.code == NULL:
            raise MemoryError()
        self.ncols = 0
        for i in range(m):
            self.code[i] = code[i]
        self.ninstr = m // W
        for i in range(self.ninstr):
            if self.code[i * W] == LOAD and self.code[i * W + 7] + 1 > self.ncols:
                self.ncols = self.code[i * W + 7] + 1
        self.nregs = nregs
        self.result = result

    def __dealloc__(self):
        PyMem_Free(self.code)

    cdef double* _run(self, scalars, data, Py_ssize_t n, colmap, Py_ssize_t rs, Py_ssize_t cs, seed,
                      rowids) except? NULL:
        """Check the inputs as ``_rank_py.check_window`` does (same exceptions), then run the program;
        returns the registers (caller frees) or NULL for an empty window. Raw buffer access instead of
        typed memoryviews: acquiring those costs more than evaluating a small window."""
        cdef Py_buffer sbuf, dbuf
        cdef Py_ssize_t cm[64]
        cdef Py_ssize_t* cmap = cm
        cdef Py_ssize_t j, c, ncm, dlen
        cdef double* regs = NULL
        cdef const unsigned char* ids = NULL
        cdef uint64_t sd
        if not isinstance(scalars, array):
            raise TypeError("scalars must be an array('d')")
        PyObject_GetBuffer(scalars, &sbuf, PyBUF_FORMAT | PyBUF_ND)
        try:
            if sbuf.format == NULL or strcmp(sbuf.format, b"d") != 0:
                raise TypeError("scalars must be an array('d')")
            if sbuf.len // 8 < self.nscalars:
                raise ValueError("fewer scalars than the program reads")
            PyObject_GetBuffer(data, &dbuf, PyBUF_FORMAT | PyBUF_STRIDES)
            try:
                if (dbuf.format == NULL or strcmp(dbuf.format, b"d") != 0 or dbuf.ndim != 1
                        or not PyBuffer_IsContiguous(&dbuf, b'C')):
                    raise TypeError("data must be a contiguous buffer of doubles (format 'd')")
                dlen = dbuf.len // 8
                if n < 0 or rs < 0 or cs < 0:
                    raise ValueError("n and strides must be >= 0")
                ncm = len(colmap)
                if ncm < self.ncols:
                    raise ValueError("colmap has fewer columns than the program loads")
                if self.ncols > 64:
                    cmap = <Py_ssize_t*>PyMem_Malloc(self.ncols * sizeof(Py_ssize_t))
                    if cmap == NULL:
                        raise MemoryError()
                try:
                    for j in range(ncm):
                        c = colmap[j]
                        if c < 0:
                            raise ValueError("colmap entries must be >= 0")
                        if n and (n - 1) * <object>rs + c * <object>cs >= dlen:  # Python ints: no overflow
                            raise ValueError("the window buffer is too short for n rows of these columns")
                        if j < self.ncols:
                            cmap[j] = c
                    if not 0 <= seed <= 0xFFFFFFFFFFFFFFFF:
                        raise ValueError("seed must be a 64-bit unsigned int")
                    sd = seed
                    if rowids is not None:
                        if type(rowids) is not bytes and not isinstance(rowids, bytes):
                            raise TypeError("rowids must be bytes or None")
                        if PyBytes_GET_SIZE(rowids) != 16 * n:
                            raise ValueError("rowids must hold 16 bytes per row")
                        ids = <const unsigned char*>PyBytes_AS_STRING(rowids)
                    if n == 0:
                        return NULL
                    regs = <double*>PyMem_Malloc(self.nregs * n * sizeof(double))
                    if regs == NULL:
                        raise MemoryError()
                    with nogil:
                        run(self.code, self.ninstr, regs, <const double*>sbuf.buf, <const double*>dbuf.buf, n, cmap,
                            rs, cs, sd, ids)
                    return regs
                finally:
                    if cmap != cm:
                        PyMem_Free(cmap)
            finally:
                PyBuffer_Release(&dbuf)
        finally:
            PyBuffer_Release(&sbuf)

    def evaluate(self, scalars, data, Py_ssize_t n, colmap, Py_ssize_t row_stride, Py_ssize_t col_stride,
                 seed, rowids=None):
        cdef double* regs = self._run(scalars, data, n, colmap, row_stride, col_stride, seed, rowids)
        cdef Py_ssize_t i
        out = array("d", bytes(8 * n))
        cdef double[::1] o
        if regs == NULL:
            return out
        o = out
        try:
            for i in range(n):
                o[i] = regs[self.result * n + i]
        finally:
            PyMem_Free(regs)
        return out

    def rank(self, scalars, data, Py_ssize_t n, colmap, Py_ssize_t row_stride, Py_ssize_t col_stride, seed,
             rowids, Py_ssize_t k):
        if k < 0:
            raise ValueError("k must be >= 0")
        cdef double* regs = self._run(scalars, data, n, colmap, row_stride, col_stride, seed, rowids)
        cdef Py_ssize_t* best
        cdef Py_ssize_t m, i
        cdef double* s
        if regs == NULL:
            return [], []
        best = <Py_ssize_t*>PyMem_Malloc(n * (sizeof(Py_ssize_t) + sizeof(uint64_t)))
        if best == NULL:
            PyMem_Free(regs)
            raise MemoryError()
        try:
            s = regs + self.result * n
            m = select(s, n, k, best, <uint64_t*>(best + n))
            idx = [best[i] for i in range(m)]
            scores = [s[best[i]] for i in range(m)]
        finally:
            PyMem_Free(best)
            PyMem_Free(regs)
        return idx, scores


def top_k(scores, Py_ssize_t k):
    if k < 0:
        raise ValueError("k must be >= 0")
    check = memoryview(scores)  # the reference's checks and exceptions, before the typed view
    if check.format != "d" or check.ndim != 1 or not check.c_contiguous:
        raise TypeError("scores must be a contiguous buffer of doubles")
    cdef const double[::1] s = scores
    cdef Py_ssize_t n = s.shape[0], m
    if n == 0:
        return []
    cdef Py_ssize_t* best = <Py_ssize_t*>PyMem_Malloc(n * (sizeof(Py_ssize_t) + sizeof(uint64_t)))
    if best == NULL:
        raise MemoryError()
    try:
        m = select(&s[0], n, k, best, <uint64_t*>(best + n))
        return [best[i] for i in range(m)]
    finally:
        PyMem_Free(best)
