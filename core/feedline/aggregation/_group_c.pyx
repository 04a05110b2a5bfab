# cython: language_level=3
"""Grouping of a timeline window, compiled twin of ``_group_py`` (identical output; the contract
is documented there).

Why compiled: an aggregated read groups the whole window (up to the feed's max length, e.g. 1,000
entries) on every request. PERF-NOTES measured Cython over Python dicts *slower* than CPython, so
no dict and no int object is touched per entry. One pass, newest first:

- the group key goes into a C open-addressing table (content hash of the str, see ``fl_hash``;
  equality by memcmp of the PEP 393 data) that hands out group ids 0, 1, 2... in order of first
  (= newest) appearance, which is the output order;
- membership is a linked list through an int32 ``nxt`` array (only the first ``cap`` members are
  linked), with per-group count / head / tail / oldest in int32 arrays;
- distinct actors: a second table is the set of (group id, actor) pairs; a new pair bumps the
  group's actor count.

All arrays and both tables live in one PyMem_Malloc block, freed on every path (``finally``). If the
keys turn out not to be strictly descending, the pass is redone in qsort'ed key order. Python
objects are only built for the result, with indices < 4096 taken from a shared tuple of ints.
Group keys and actors are normally str; other hashables work (Python hash and ``==``), but their
``__eq__`` must not mutate the input lists (the tables hold borrowed references).
"""

from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF
from cpython.list cimport PyList_New, PyList_SET_ITEM
from libc.string cimport memset
from libc.stdlib cimport qsort
from libc.stdint cimport uint64_t, int32_t, uint32_t

cdef extern from *:
    """
    #include <string.h>
    #include <stdint.h>

    /* Hash of a group key or actor, as 64 bits whose TOP bits index the tables (multiplicative
       hashing: the top bits of a product depend on every bit of its operands).
       Strings are hashed by content, one multiply per 8 bytes, instead of PyObject_Hash: rows
       decoded from storage are new str objects whose SipHash is not computed yet, and computing
       it cost more than the rest of the grouping. Equal strings have equal bytes (PEP 393: same
       kind), so equal objects hash alike. Other objects: their Python hash, multiplied. The seed
       is random per process. Returns 0 with a Python error set on failure (0 is never a hash). */
    static uint64_t fl_seed = 0x243F6A8885A308D3ULL;
    #define FL_K1 0x9E3779B97F4A7C15ULL
    #define FL_K2 0xff51afd7ed558ccdULL

    static inline uint64_t fl_hash(PyObject *o) {
        uint64_t h;
        if (PyUnicode_Check(o)) {
    #if PY_VERSION_HEX < 0x030C0000
            if (PyUnicode_READY(o) < 0) return 0;
    #endif
            const unsigned char *p = (const unsigned char *)PyUnicode_DATA(o);
            Py_ssize_t total = PyUnicode_GET_LENGTH(o) * (Py_ssize_t)PyUnicode_KIND(o), n = total;
            uint64_t w;
            h = fl_seed ^ (uint64_t)total;
            while (n > 8) {
                memcpy(&w, p, 8);
                h = (h ^ w) * FL_K1;
                h ^= h >> 29;
                p += 8; n -= 8;
            }
            /* the last 1..8 bytes, with whole-word loads only (a byte-wise tail would stall on
               store forwarding) */
            if (total >= 8) {
                memcpy(&w, p + n - 8, 8);  /* the last 8 bytes, overlapping the previous word */
            } else if (n >= 4) {
                uint32_t lo, hi;
                memcpy(&lo, p, 4); memcpy(&hi, p + n - 4, 4);
                w = (uint64_t)lo | ((uint64_t)hi << 32);
            } else if (n > 0) {
                w = (uint64_t)p[0] | ((uint64_t)p[n >> 1] << 8) | ((uint64_t)p[n - 1] << 16);
            } else {
                w = 0;
            }
            h = (h ^ w) * FL_K2;
        } else {
            Py_hash_t ph = PyObject_Hash(o);
            if (ph == -1) return 0;
            h = ((uint64_t)ph ^ fl_seed) * FL_K2;
        }
        return h ? h : 1;
    }

    static inline uint64_t fl_load_be64(const unsigned char *p) {
        uint64_t v;
        memcpy(&v, p, 8);
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap64(v);
    #endif
        return v;
    }

    /* bytes order (as Python compares bytes): <0, 0, >0; 16-byte keys without a memcmp call */
    static inline int fl_bytes_cmp(const unsigned char *a, Py_ssize_t la,
                                   const unsigned char *b, Py_ssize_t lb) {
        if (la == 16 && lb == 16) {
            uint64_t x = fl_load_be64(a), y = fl_load_be64(b);
            if (x == y) { x = fl_load_be64(a + 8); y = fl_load_be64(b + 8); }
            return (x > y) - (x < y);
        }
        int r = memcmp(a, b, (size_t)(la < lb ? la : lb));
        if (r != 0) return r;
        return (la > lb) - (la < lb);
    }

    /* equal byte runs, 8 bytes at a time (short strings: no memcmp call) */
    static inline int fl_mem_eq(const unsigned char *a, const unsigned char *b, Py_ssize_t n) {
        uint64_t x, y;
        while (n >= 8) {
            memcpy(&x, a, 8); memcpy(&y, b, 8);
            if (x != y) return 0;
            a += 8; b += 8; n -= 8;
        }
        while (n > 0) {
            if (*a != *b) return 0;
            a++; b++; n--;
        }
        return 1;
    }

    /* Python equality; exact str compared in C (PEP 393: equal strings have the same kind) */
    static inline int fl_same(PyObject *a, PyObject *b) {
        if (a == b) return 1;
        if (PyUnicode_CheckExact(a) && PyUnicode_CheckExact(b)) {
            Py_ssize_t n = PyUnicode_GET_LENGTH(a);
            unsigned int kind = PyUnicode_KIND(a);
            if (n != PyUnicode_GET_LENGTH(b) || kind != PyUnicode_KIND(b)) return 0;
            return fl_mem_eq((const unsigned char *)PyUnicode_DATA(a),
                             (const unsigned char *)PyUnicode_DATA(b), n * (Py_ssize_t)kind);
        }
        return PyObject_RichCompareBool(a, b, Py_EQ);  /* -1 with the error set */
    }
    """
    uint64_t fl_seed
    uint64_t fl_hash(PyObject* o)
    int fl_bytes_cmp(const unsigned char* a, Py_ssize_t la,
                     const unsigned char* b, Py_ssize_t lb) noexcept nogil
    int fl_same(PyObject* a, PyObject* b)

cdef extern from "Python.h":
    PyObject* _PyErr_Occurred "PyErr_Occurred"()
    bint _is_bytes "PyBytes_CheckExact"(PyObject* o)
    char* _bdata "PyBytes_AS_STRING"(PyObject* o)
    Py_ssize_t _blen "PyBytes_GET_SIZE"(PyObject* o)
    PyObject* _list_get "PyList_GET_ITEM"(object lst, Py_ssize_t i)
    PyObject* _tuple_get "PyTuple_GET_ITEM"(object tup, Py_ssize_t i)
    object PyLong_FromSsize_t(Py_ssize_t v)

#: result indices below this are shared int objects (no allocation per member)
cdef enum:
    NSMALL = 4096
cdef tuple _INTS = tuple(range(NSMALL))

import os as _os
# per-process seed of the string hash (crafted keys cannot be chosen to collide across processes)
fl_seed = int.from_bytes(_os.urandom(8), "little")


cdef inline object _int(Py_ssize_t j):
    if j < NSMALL:
        return <object>_tuple_get(_INTS, j)
    return PyLong_FromSsize_t(j)


ctypedef struct Slot:
    PyObject* obj      # NULL = empty
    int32_t id         # group table: the group's id; pair table: the group of the (group, actor) pair
    uint32_t h         # bits 0-31 of the object's hash (a cheap filter before equality)


ctypedef struct KeyRef:
    const unsigned char* p
    Py_ssize_t len
    Py_ssize_t idx


cdef int _keyref_desc(const void* x, const void* y) noexcept nogil:
    cdef const KeyRef* a = <const KeyRef*>x
    cdef const KeyRef* b = <const KeyRef*>y
    cdef int r = fl_bytes_cmp(a.p, a.len, b.p, b.len)
    if r != 0:
        return -r
    return (a.idx > b.idx) - (a.idx < b.idx)


cdef inline int32_t _group_id(Slot* table, int shift, size_t mask, PyObject* o, int32_t* count) except -2:
    """Id of the group key ``o`` (equal keys share an id); new ids are 0, 1, 2... in order."""
    cdef uint64_t h = fl_hash(o)
    if h == 0:
        return -2
    cdef size_t pos = <size_t>(h >> shift)
    cdef Slot* s
    cdef int eq
    while True:
        s = &table[pos]
        if s.obj == NULL:
            s.obj = o
            s.h = <uint32_t>h
            s.id = count[0]
            count[0] += 1
            return s.id
        if s.h == <uint32_t>h:
            eq = fl_same(s.obj, o)
            if eq == 1:
                return s.id
            if eq < 0:
                return -2
        pos = (pos + 1) & mask


cdef inline int _new_pair(Slot* table, int shift, size_t mask, int32_t g, PyObject* actor) except -1:
    """Adds (group, actor) to the set: 1 if it was not there, 0 if it was."""
    cdef uint64_t h = fl_hash(actor)
    if h == 0:
        return -1
    cdef size_t pos = <size_t>((h + <uint64_t>g * 0x9E3779B97F4A7C15ULL) >> shift)
    cdef Slot* s
    cdef int eq
    while True:
        s = &table[pos]
        if s.obj == NULL:
            s.obj = actor
            s.h = <uint32_t>h
            s.id = g
            return 1
        if s.id == g and s.h == <uint32_t>h:
            eq = fl_same(s.obj, actor)
            if eq == 1:
                return 0
            if eq < 0:
                return -1
        pos = (pos + 1) & mask


ctypedef struct State:
    Slot* gtab          # group key -> group id
    Slot* ptab          # set of (group, actor)
    size_t mask         # both tables have mask + 1 = 2 ** (64 - shift) slots
    int shift
    Py_ssize_t cap
    PyObject** gobj     # per group: its key object (the newest member's)
    int32_t* nxt        # per entry: the next (older) kept member of its group
    int32_t* count      # per group: all members
    int32_t* head       # per group: newest member
    int32_t* tail       # per group: last kept member
    int32_t* oldest     # per group: oldest member
    int32_t* nact       # per group: distinct actors


cdef Py_ssize_t _group_pass(State* st, list keys, list group_keys, list actors, Py_ssize_t n,
                            const KeyRef* refs) except -2:
    """Group the entries newest first: in input order (refs NULL; returns -1 as soon as the keys
    turn out not to be strictly descending) or in the order of ``refs``. Returns the group count."""
    cdef Py_ssize_t p, i
    cdef int32_t ngroups = 0, g, c, before
    cdef int added
    cdef PyObject* k
    cdef PyObject* prev = NULL
    for p in range(n):
        if refs == NULL:
            i = p
            k = _list_get(keys, i)
            if not _is_bytes(k):
                raise TypeError("keys must be bytes")
            if prev != NULL and fl_bytes_cmp(<const unsigned char*>_bdata(prev), _blen(prev),
                                             <const unsigned char*>_bdata(k), _blen(k)) <= 0:
                return -1
            prev = k
        else:
            i = refs[p].idx
        before = ngroups
        g = _group_id(st.gtab, st.shift, st.mask, _list_get(group_keys, i), &ngroups)
        if g == before:  # first (newest) member of a new group
            st.gobj[g] = _list_get(group_keys, i)
            st.head[g] = <int32_t>i
            st.tail[g] = <int32_t>i
            st.count[g] = 1
            st.nact[g] = 0
        else:
            c = st.count[g]
            if c < st.cap:
                st.nxt[st.tail[g]] = <int32_t>i
                st.tail[g] = <int32_t>i
            st.count[g] = c + 1
        st.oldest[g] = <int32_t>i
        added = _new_pair(st.ptab, st.shift, st.mask, g, _list_get(actors, i))
        st.nact[g] += added
    return ngroups


def aggregate(keys, group_keys, actors, Py_ssize_t cap):
    if type(keys) is not list:
        keys = list(keys)
    if type(group_keys) is not list:
        group_keys = list(group_keys)
    if type(actors) is not list:
        actors = list(actors)
    cdef Py_ssize_t n = len(<list>keys)
    if len(<list>group_keys) != n or len(<list>actors) != n:
        raise ValueError("keys, group_keys and actors must have the same length")
    if cap < 1:
        raise ValueError("cap must be at least 1")
    if n == 0:
        return []
    if n > 0x3FFFFFFF:
        raise ValueError("window too large")

    # one block: the two hash tables (load <= 1/2), then the per-entry / per-group arrays
    cdef size_t tsize = 16
    cdef int bits = 4
    while tsize < <size_t>(2 * n):
        tsize <<= 1
        bits += 1
    cdef size_t table_bytes = 2 * tsize * sizeof(Slot)
    cdef char* block = <char*>PyMem_Malloc(table_bytes + n * sizeof(PyObject*) + 6 * n * sizeof(int32_t))
    if block == NULL:
        raise MemoryError()
    cdef State st
    st.gtab = <Slot*>block
    st.ptab = st.gtab + tsize
    st.mask = tsize - 1
    st.shift = 64 - bits
    st.cap = cap
    st.gobj = <PyObject**>(block + table_bytes)
    st.nxt = <int32_t*>(st.gobj + n)
    st.count = st.nxt + n
    st.head = st.count + n
    st.tail = st.head + n
    st.oldest = st.tail + n
    st.nact = st.oldest + n
    cdef KeyRef* refs = NULL
    cdef Py_ssize_t i, ngroups, g, c, m, j
    cdef PyObject* k
    cdef list out, members
    cdef tuple row
    cdef object num
    try:
        memset(block, 0, table_bytes)
        ngroups = _group_pass(&st, keys, group_keys, actors, n, NULL)
        if ngroups < 0:
            # not newest first: take the entries in descending key order (ties: input order)
            refs = <KeyRef*>PyMem_Malloc(n * sizeof(KeyRef))
            if refs == NULL:
                raise MemoryError()
            for i in range(n):
                k = _list_get(keys, i)
                if not _is_bytes(k):
                    raise TypeError("keys must be bytes")
                refs[i].p = <const unsigned char*>_bdata(k)
                refs[i].len = _blen(k)
                refs[i].idx = i
            qsort(refs, n, sizeof(KeyRef), _keyref_desc)
            memset(block, 0, table_bytes)
            ngroups = _group_pass(&st, keys, group_keys, actors, n, refs)

        out = PyList_New(ngroups)
        for g in range(ngroups):
            m = st.count[g] if st.count[g] < cap else cap
            members = PyList_New(m)
            j = st.head[g]
            for c in range(m):
                num = _int(j)
                Py_INCREF(num)
                PyList_SET_ITEM(members, c, num)
                j = st.nxt[j]
            row = (<object>st.gobj[g], members, _int(st.count[g]), _int(st.nact[g]), _int(st.head[g]),
                   _int(st.oldest[g]))
            Py_INCREF(row)
            PyList_SET_ITEM(out, g, row)
        return out
    finally:
        PyMem_Free(block)
        if refs != NULL:
            PyMem_Free(refs)
