# cython: language_level=3
"""Aggregated/notification page assembly, compiled twin of ``_page_py`` (identical bytes; the
contract and the output layout are documented there).

Why compiled: an aggregated page splices ~25 groups x up to 15 stored bodies (~75 KB). Here a first
pass collects the pieces and measures the exact size, a second memcpy's them into one
preallocated bytes object: no intermediate bytes per activity or per group. Strings that are
printable ASCII without ``"`` or ``\\`` (UUIDs, times, usual group keys and verbs) are quoted
directly (byte-identical to ``json_bytes``); any other string goes through ``json_bytes``.
"""

cimport cython
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cpython.object cimport PyObject
from libc.string cimport memcpy

from feedline.serialization._activity_py import json_bytes

cdef extern from "Python.h":
    bint PyUnicode_CheckExact(object o)
    bint PyUnicode_IS_ASCII(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    void* PyUnicode_DATA(object o)

cdef bytes _HEAD = b'{"results":['
cdef bytes _G_ID = b'{"id":'
cdef bytes _G_GROUP = b',"group":'
cdef bytes _G_VERB = b',"verb":'
cdef bytes _G_COUNT = b',"activity_count":'
cdef bytes _G_ACTORS = b',"actor_count":'
cdef bytes _G_CREATED = b',"created_at":'
cdef bytes _G_UPDATED = b',"updated_at":'
cdef bytes _G_ACTS = b',"activities":['
cdef bytes _ORIGIN = b',"origin":'
cdef bytes _SEEN = b',"is_seen":'
cdef bytes _READ = b',"is_read":'
cdef bytes _UNSEEN = b',"unseen":'
cdef bytes _UNREAD = b',"unread":'
cdef bytes _NEXT = b',"next":'
cdef bytes _DUR = b',"duration":'

# fixed bytes of one group: the header keys, "[", "]" and "}"
cdef Py_ssize_t _GROUP_FIXED = (len(_G_ID) + len(_G_GROUP) + len(_G_VERB) + len(_G_COUNT)
                                + len(_G_ACTORS) + len(_G_CREATED) + len(_G_UPDATED) + len(_G_ACTS) + 2)
cdef Py_ssize_t _NOTIF_FIXED = len(_SEEN) + len(_READ)


ctypedef struct GroupInfo:
    long long count
    long long actors
    Py_ssize_t nmembers
    bint seen
    bint read


cdef inline bint _plain(object s):
    """True if ``s`` is an exact str of printable ASCII without '"' or '\\' (JSON = quoted as is)."""
    if not PyUnicode_CheckExact(s) or not PyUnicode_IS_ASCII(s):
        return False
    cdef const unsigned char* p = <const unsigned char*>PyUnicode_DATA(s)
    cdef Py_ssize_t i, n = PyUnicode_GET_LENGTH(s)
    cdef unsigned char c
    for i in range(n):
        c = p[i]
        if c < 0x20 or c == 0x22 or c == 0x5C:
            return False
    return True


cdef inline object _piece(object s):
    """The str itself when it can be quoted as is, else its JSON bytes."""
    if _plain(s):
        return s
    return json_bytes(s)


cdef inline Py_ssize_t _piece_len(object piece):
    if type(piece) is bytes:
        return PyBytes_GET_SIZE(piece)
    return PyUnicode_GET_LENGTH(piece) + 2


cdef inline char* _put_piece(char* p, object piece):
    cdef Py_ssize_t n
    if type(piece) is bytes:
        n = PyBytes_GET_SIZE(piece)
        memcpy(p, PyBytes_AS_STRING(piece), n)
        return p + n
    n = PyUnicode_GET_LENGTH(piece)
    p[0] = b'"'
    memcpy(p + 1, PyUnicode_DATA(piece), n)
    p[n + 1] = b'"'
    return p + n + 2


cdef inline char* _put(char* p, bytes b):
    cdef Py_ssize_t n = PyBytes_GET_SIZE(b)
    memcpy(p, PyBytes_AS_STRING(b), n)
    return p + n


cdef inline int _digits(long long v) noexcept:
    cdef unsigned long long u
    cdef int d = 1
    if v < 0:
        u = <unsigned long long>(-(v + 1)) + 1
        d += 1
    else:
        u = <unsigned long long>v
    while u >= 10:
        u //= 10
        d += 1
    return d


cdef inline char* _put_int(char* p, long long v) noexcept:
    cdef int n = _digits(v)
    cdef unsigned long long u
    cdef char* end = p + n
    cdef char* q = end
    if v < 0:
        p[0] = b'-'
        u = <unsigned long long>(-(v + 1)) + 1
    else:
        u = <unsigned long long>v
    while True:
        q -= 1
        q[0] = <char>(48 + u % 10)
        u //= 10
        if u == 0:
            break
    return end


cdef inline char* _put_bool(char* p, bint value):
    if value:
        memcpy(p, b"true", 4)
        return p + 4
    memcpy(p, b"false", 5)
    return p + 5


# indices come from the caller: keep Python's bounds checks and negative indices (as the reference)
@cython.boundscheck(True)
@cython.wraparound(True)
def assemble_groups(groups, bodies, origins, verbs, key_uuids, times, seen, read,
                    str next_url, str duration, long long unseen, long long unread, keys=None):
    cdef Py_ssize_t ngroups = len(groups)
    cdef bint notification = False
    if seen is not None or read is not None:
        if seen is None or read is None:
            raise ValueError("seen and read must both be given (notification feed) or both be None")
        if len(seen) != ngroups or len(read) != ngroups:
            raise ValueError("seen and read need one flag per group")
        notification = True

    cdef list pieces = []   # per group: uuid, group, verb, created, updated (str to quote, or bytes)
    cdef list flat = []     # body, origin, body, origin, ... in output order (strong references)
    cdef bytes next_piece = <bytes>json_bytes(next_url) if not _plain(next_url) else None
    cdef bytes dur_piece = <bytes>json_bytes(duration) if not _plain(duration) else None
    cdef GroupInfo* info = <GroupInfo*>PyMem_Malloc((ngroups if ngroups else 1) * sizeof(GroupInfo))
    if info == NULL:
        raise MemoryError()
    cdef Py_ssize_t gi, k, total, nm, m, newest, oldest
    cdef object row, group_key, members, body, origin, piece
    cdef bytes out
    cdef char* p
    try:
        # --- pass 1: collect and measure -------------------------------------------------------
        total = PyBytes_GET_SIZE(_HEAD) + 1 + PyBytes_GET_SIZE(_NEXT) + PyBytes_GET_SIZE(_DUR) + 1
        total += (PyBytes_GET_SIZE(next_piece) if next_piece is not None else len(next_url) + 2)
        total += (PyBytes_GET_SIZE(dur_piece) if dur_piece is not None else len(duration) + 2)
        if notification:
            total += (PyBytes_GET_SIZE(_UNSEEN) + _digits(unseen)
                      + PyBytes_GET_SIZE(_UNREAD) + _digits(unread))
        if ngroups > 1:
            total += ngroups - 1
        for gi in range(ngroups):
            group_key, members, count, actor_count, newest, oldest = groups[gi]
            info[gi].count = count
            info[gi].actors = actor_count
            for piece in (_piece(key_uuids[newest]), _piece(group_key), _piece(verbs[newest]),
                          _piece(times[oldest]), _piece(times[newest])):
                pieces.append(piece)
                total += _piece_len(piece)
            total += _GROUP_FIXED + _digits(info[gi].count) + _digits(info[gi].actors)
            if notification:
                info[gi].seen = bool(seen[gi])
                info[gi].read = bool(read[gi])
                total += _NOTIF_FIXED + (4 if info[gi].seen else 5) + (4 if info[gi].read else 5)
            nm = 0
            for m in members:
                body = bodies[m] if keys is None else bodies[keys[m]]
                origin = origins[m]
                if type(body) is not bytes or type(origin) is not bytes:
                    raise TypeError("bodies and origins must be bytes")
                if PyBytes_GET_SIZE(body) == 0:
                    raise ValueError("empty activity body")
                flat.append(body)
                flat.append(origin)
                # body minus "}" + ,"origin": + origin + "}" (separating commas: below)
                total += PyBytes_GET_SIZE(body) + PyBytes_GET_SIZE(_ORIGIN) + PyBytes_GET_SIZE(origin)
                nm += 1
            if nm > 1:
                total += nm - 1
            info[gi].nmembers = nm

        # --- pass 2: write ---------------------------------------------------------------------
        out = PyBytes_FromStringAndSize(NULL, total)
        p = PyBytes_AS_STRING(out)
        p = _put(p, _HEAD)
        k = 0
        m = 0
        for gi in range(ngroups):
            if gi:
                p[0] = b','
                p += 1
            p = _put(p, _G_ID)
            p = _put_piece(p, pieces[k])
            p = _put(p, _G_GROUP)
            p = _put_piece(p, pieces[k + 1])
            p = _put(p, _G_VERB)
            p = _put_piece(p, pieces[k + 2])
            p = _put(p, _G_COUNT)
            p = _put_int(p, info[gi].count)
            p = _put(p, _G_ACTORS)
            p = _put_int(p, info[gi].actors)
            p = _put(p, _G_CREATED)
            p = _put_piece(p, pieces[k + 3])
            p = _put(p, _G_UPDATED)
            p = _put_piece(p, pieces[k + 4])
            k += 5
            p = _put(p, _G_ACTS)
            for nm in range(info[gi].nmembers):
                if nm:
                    p[0] = b','
                    p += 1
                body = flat[m]
                memcpy(p, PyBytes_AS_STRING(body), PyBytes_GET_SIZE(body) - 1)
                p += PyBytes_GET_SIZE(body) - 1
                p = _put(p, _ORIGIN)
                p = _put(p, <bytes>flat[m + 1])
                p[0] = b'}'
                p += 1
                m += 2
            p[0] = b']'
            p += 1
            if notification:
                p = _put_bool(_put(p, _SEEN), info[gi].seen)
                p = _put_bool(_put(p, _READ), info[gi].read)
            p[0] = b'}'
            p += 1
        p[0] = b']'
        p += 1
        if notification:
            p = _put(p, _UNSEEN)
            p = _put_int(p, unseen)
            p = _put(p, _UNREAD)
            p = _put_int(p, unread)
        p = _put(p, _NEXT)
        p = _put_piece(p, next_piece if next_piece is not None else next_url)
        p = _put(p, _DUR)
        p = _put_piece(p, dur_piece if dur_piece is not None else duration)
        p[0] = b'}'
        p += 1
        if p - PyBytes_AS_STRING(out) != total:  # a bug, never an input error
            raise AssertionError("assemble_groups: size mismatch")
        return out
    finally:
        PyMem_Free(info)
