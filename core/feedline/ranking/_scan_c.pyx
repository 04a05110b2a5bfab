# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Field scanning of stored activity bodies, compiled twin of ``_scan_py`` (contract there).

Why compiled: when a window's ranking columns are missing (a method added after the data was
written), a ranked read has to read the fields of 1,000 stored bodies. Decoding each into a dict is
what PERF-NOTES measured as 86 % of Go's reference time; this scans the canonical JSON bytes instead:
strings are skipped with memchr, only the keys of the asked paths are compared, numbers are parsed in
place, and nothing but the output array is allocated.
"""

from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdint cimport int64_t
from libc.stdlib cimport strtod
from libc.string cimport memchr, memcmp

from array import array

cdef double NAN_ = float("nan")


def tagged(joined, bytes tag, Py_ssize_t row_bytes):
    """Every ``row_bytes`` row of ``joined`` starts with ``tag`` (and the length is a multiple)."""
    if type(joined) is not bytes:
        raise TypeError("joined must be bytes")
    if row_bytes <= 0 or PyBytes_GET_SIZE(tag) > row_bytes:
        raise ValueError("row_bytes must be > 0 and hold the tag")
    cdef const char* p = PyBytes_AS_STRING(joined)
    cdef const char* t = PyBytes_AS_STRING(tag)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(joined), tl = PyBytes_GET_SIZE(tag), at = 0
    if n % row_bytes:
        return False
    while at < n:
        if memcmp(p + at, t, tl) != 0:
            return False
        at += row_bytes
    return True


# --- field scanning -------------------------------------------------------------------------------

cdef inline const char* skip_ws(const char* p, const char* end) nogil:
    while p < end and (p[0] == b' ' or p[0] == b'\t' or p[0] == b'\n' or p[0] == b'\r'):
        p += 1
    return p


cdef inline const char* skip_string(const char* p, const char* end) nogil:
    """p at the opening quote; returns the position after the closing quote, or NULL. Strings are
    most of a body's bytes: memchr (vectorised in libc) finds each quote; a quote preceded by an odd
    number of backslashes is escaped."""
    cdef const char* q
    cdef const char* b
    p += 1
    while p < end:
        q = <const char*>memchr(p, b'"', end - p)
        if q == NULL:
            return NULL
        b = q
        while b > p and (b - 1)[0] == b'\\':
            b -= 1
        if (q - b) % 2 == 0:
            return q + 1
        p = q + 1
    return NULL


cdef inline bint delim(const char* p, const char* end) nogil:
    return p >= end or p[0] == b',' or p[0] == b'}' or p[0] == b']' or p[0] == b' ' or p[0] == b'\t' \
        or p[0] == b'\n' or p[0] == b'\r'


cdef const char* skip_value(const char* p, const char* end) nogil:
    cdef int depth = 0
    cdef const char* start = p
    if p >= end:
        return NULL
    if p[0] == b'"':
        return skip_string(p, end)
    if p[0] == b'{' or p[0] == b'[':
        while p < end:
            if p[0] == b'"':
                p = skip_string(p, end)
                if p == NULL:
                    return NULL
                continue
            if p[0] == b'{' or p[0] == b'[':
                depth += 1
            elif p[0] == b'}' or p[0] == b']':
                depth -= 1
                if depth == 0:
                    return p + 1
            p += 1
        return NULL
    while not delim(p, end):
        p += 1
    return p if p > start else NULL


cdef inline bint is_digit(char c) nogil:
    return b'0' <= c <= b'9'


cdef const char* number_end(const char* p, const char* end) nogil:
    """End of a JSON number starting at p (RFC 8259 grammar), or NULL if it is not one."""
    if p < end and p[0] == b'-':
        p += 1
    if p >= end or not is_digit(p[0]):
        return NULL
    if p[0] == b'0':
        p += 1
    else:
        while p < end and is_digit(p[0]):
            p += 1
    if p < end and p[0] == b'.':
        p += 1
        if p >= end or not is_digit(p[0]):
            return NULL
        while p < end and is_digit(p[0]):
            p += 1
    if p < end and (p[0] == b'e' or p[0] == b'E'):
        p += 1
        if p < end and (p[0] == b'+' or p[0] == b'-'):
            p += 1
        if p >= end or not is_digit(p[0]):
            return NULL
        while p < end and is_digit(p[0]):
            p += 1
    return p if delim(p, end) else NULL


cdef inline double parse_number(const char* p, const char* q) noexcept nogil:
    """A JSON number token [p, q). Integers of up to 15 digits are exact in a double, so summing
    their digits gives strtod's (correctly rounded) result without its cost; others go to strtod
    (the token ends at a delimiter or the bytes' NUL, so strtod stops exactly at q)."""
    cdef const char* d = p + 1 if p[0] == b'-' else p
    cdef int64_t v = 0
    if q - d <= 15:
        while d < q and is_digit(d[0]):
            v = v * 10 + (d[0] - 48)
            d += 1
        if d == q:
            return -<double>v if p[0] == b'-' else <double>v
    return strtod(p, NULL)


cdef inline int dig(const char* p, int k) nogil:
    cdef int v = 0, j
    for j in range(k):
        if not is_digit(p[j]):
            return -1
        v = v * 10 + (p[j] - 48)
    return v


cdef int64_t floordiv(int64_t a, int64_t b) nogil:
    cdef int64_t q = a / b
    if (a % b != 0) and ((a < 0) != (b < 0)):
        q -= 1
    return q


cdef double parse_time(const char* p, Py_ssize_t len_) nogil:
    """Unix seconds of a canonical time string's 26 characters, NaN otherwise (= _rank_py.parse_time)."""
    cdef int y, mo, d, h, mi, s, f
    cdef int64_t yy, era, yoe, doy, doe, days, us
    if len_ != 26 or p[4] != b'-' or p[7] != b'-' or p[10] != b'T' or p[13] != b':' or p[16] != b':' \
            or p[19] != b'.':
        return NAN_
    y = dig(p, 4)
    mo = dig(p + 5, 2)
    d = dig(p + 8, 2)
    h = dig(p + 11, 2)
    mi = dig(p + 14, 2)
    s = dig(p + 17, 2)
    f = dig(p + 20, 6)
    if y < 0 or mo < 0 or d < 0 or h < 0 or mi < 0 or s < 0 or f < 0:
        return NAN_
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 61):
        return NAN_
    yy = y - (1 if mo <= 2 else 0)
    era = floordiv(yy if yy >= 0 else yy - 399, 400)
    yoe = yy - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    us = (((days * 24 + h) * 60 + mi) * 60 + s) * 1000000 + f
    return <double>us / 1e6


cdef struct Entry:
    Py_ssize_t key_off
    Py_ssize_t key_len
    Py_ssize_t child     # node index of the object below, -1 if none
    Py_ssize_t field     # output column, -1 if none
    bint is_time         # the top-level "time" string


cdef struct Node:
    Py_ssize_t first
    Py_ssize_t count


cdef class Scanner:
    cdef readonly tuple paths
    cdef bytes keys
    cdef Entry* entries
    cdef Node* nodes
    cdef Py_ssize_t nfields

    def __cinit__(self):
        self.entries = NULL
        self.nodes = NULL

    def __init__(self, paths):
        from feedline.ranking._scan_py import Scanner as _Ref

        self.paths = _Ref(paths).paths  # the same validation
        self.nfields = len(self.paths)
        # trie: node 0 is the document; each node's children are contiguous entries
        tree = [{}]  # node -> {key: [child node or -1, field or -1, is_time]}
        for j, path in enumerate(self.paths):
            parts = path.split(".")
            node = 0
            for depth, part in enumerate(parts):
                slot = tree[node].setdefault(part, [-1, -1, False])
                if depth == len(parts) - 1:
                    slot[1] = j
                    slot[2] = node == 0 and part == "time"
                else:
                    if slot[0] < 0:
                        slot[0] = len(tree)
                        tree.append({})
                    node = slot[0]
        nentries = sum(len(t) for t in tree)
        self.entries = <Entry*>PyMem_Malloc(max(nentries, 1) * sizeof(Entry))
        self.nodes = <Node*>PyMem_Malloc(len(tree) * sizeof(Node))
        if self.entries == NULL or self.nodes == NULL:
            raise MemoryError()
        blob = bytearray()
        cdef Py_ssize_t e = 0, ni
        for ni, t in enumerate(tree):
            self.nodes[ni].first = e
            self.nodes[ni].count = len(t)
            for key, (child, field, is_time) in t.items():
                kb = key.encode("utf-8")
                self.entries[e].key_off = len(blob)
                self.entries[e].key_len = len(kb)
                self.entries[e].child = child
                self.entries[e].field = field
                self.entries[e].is_time = is_time
                blob += kb
                e += 1
        self.keys = bytes(blob)

    def __dealloc__(self):
        PyMem_Free(self.entries)
        PyMem_Free(self.nodes)

    cdef const char* scan_obj(self, const char* p, const char* end, Py_ssize_t node, double* out,
                              Py_ssize_t step):
        cdef const char* kb = PyBytes_AS_STRING(self.keys)
        cdef const char* k0
        cdef const char* k1
        cdef const char* q
        cdef Py_ssize_t e, klen
        cdef Py_ssize_t left = self.nodes[node].count  # keys still to find: canonical bodies have no duplicates
        cdef Entry* hit
        p = skip_ws(p, end)
        if p >= end or p[0] != b'{':
            return NULL
        p = skip_ws(p + 1, end)
        if p < end and p[0] == b'}':
            return p + 1
        while True:
            p = skip_ws(p, end)
            if p >= end or p[0] != b'"':
                return NULL
            k0 = p + 1
            p = skip_string(p, end)
            if p == NULL:
                return NULL
            k1 = p - 1
            klen = k1 - k0
            p = skip_ws(p, end)
            if p >= end or p[0] != b':':
                return NULL
            p = skip_ws(p + 1, end)
            if p >= end:
                return NULL
            hit = NULL
            for e in range(self.nodes[node].first, self.nodes[node].first + self.nodes[node].count):
                if self.entries[e].key_len == klen and memcmp(kb + self.entries[e].key_off, k0, klen) == 0:
                    hit = &self.entries[e]
                    break
            if hit != NULL:
                left -= 1
            if hit != NULL and hit.child >= 0 and p[0] == b'{':
                p = self.scan_obj(p, end, hit.child, out, step)
            elif hit != NULL and hit.field >= 0:
                if hit.is_time:
                    q = skip_value(p, end)
                    if q != NULL and p[0] == b'"':
                        out[hit.field * step] = parse_time(p + 1, q - p - 2)
                    p = q
                else:
                    q = number_end(p, end)
                    if q != NULL:
                        out[hit.field * step] = parse_number(p, q)
                        p = q
                    else:
                        p = skip_value(p, end)
            else:
                p = skip_value(p, end)
            if p == NULL:
                return NULL
            if left == 0 and node == 0:
                return end  # every field of the document was read: the rest cannot change the result
            p = skip_ws(p, end)
            if p < end and p[0] == b',':
                p += 1
                continue
            if p < end and p[0] == b'}':
                return p + 1
            return NULL

    cdef void scan_body(self, object body, double* out, Py_ssize_t step) except *:
        if type(body) is not bytes:
            raise TypeError("bodies must be bytes")
        cdef const char* p = PyBytes_AS_STRING(body)
        self.scan_obj(p, p + PyBytes_GET_SIZE(body), 0, out, step)

    def scan(self, bodies):
        cdef list rows = list(bodies)
        cdef Py_ssize_t n = len(rows), i, j
        out = array("d", [float("nan")]) * (n * self.nfields)
        cdef double[::1] o
        if n == 0 or self.nfields == 0:
            for body in rows:
                if type(body) is not bytes:
                    raise TypeError("bodies must be bytes")
            return out
        o = out
        for i in range(n):
            self.scan_body(rows[i], &o[i], n)
        return out

    def scan_one(self, body):
        out = array("d", [float("nan")]) * self.nfields
        cdef double[::1] o
        if self.nfields == 0:
            if type(body) is not bytes:
                raise TypeError("bodies must be bytes")
            return out
        o = out
        self.scan_body(body, &o[0], 1)
        return out
