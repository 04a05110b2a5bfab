# cython: language_level=3
"""Canonical activity encoding and page assembly, compiled twin of ``_activity_py``.

Why compiled: page assembly is the read path's inner loop. Here it measures the exact size once and
memcpy's stored bodies into one preallocated bytes object: no intermediate bytes per activity and
no list of parts. Value encoding stays with ujson (already C); the reference defines the format.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.string cimport memcpy

import ujson

from feedline.serialization._activity_py import encode_origin, json_bytes, with_duration

cdef bytes _ORIGIN = b',"origin":'
cdef bytes _HEAD = b'{"results":['
cdef bytes _NEXT = b'],"next":'
cdef bytes _DUR = b',"duration":'


def encode_activity(str id_, str actor, str verb, str object_, str target, str foreign_id,
                    str time, dict extra, to):
    cdef list parts = [
        b'{"id":"', id_.encode("ascii"), b'","actor":', json_bytes(actor),
        b',"verb":', json_bytes(verb),
        b',"object":', json_bytes(object_),
        b',"target":', json_bytes(target),
        b',"foreign_id":', json_bytes(foreign_id),
        b',"time":"', time.encode("ascii"), b'"',
    ]
    cdef object name
    for name in sorted(extra):
        parts.append(b",")
        parts.append(json_bytes(name))
        parts.append(b":")
        parts.append(json_bytes(extra[name]))
    if to:
        parts.append(b',"to":')
        parts.append(json_bytes(list(to)))
    parts.append(b"}")
    return b"".join(parts)


cdef inline char* _put(char* p, bytes b):
    cdef Py_ssize_t n = PyBytes_GET_SIZE(b)
    memcpy(p, PyBytes_AS_STRING(b), n)
    return p + n


def assemble_page(rows, str next_url not None, str duration not None):
    """See ``_activity_py.assemble_page``: same output, same checks (same exception types). The
    checks matter more here: an empty body would make the memcpy below copy ``-1`` bytes and a
    non-``bytes`` body would be read as one, either crashing the process."""
    cdef bytes nxt = json_bytes(next_url)
    cdef bytes dur = json_bytes(duration)
    cdef Py_ssize_t n, i, total
    cdef object body, origin, _key
    cdef bytes enc
    cdef object last_origin = None
    cdef bytes last_enc = b"null"
    cdef list bodies = []
    cdef list encs = []
    total = PyBytes_GET_SIZE(_HEAD) + PyBytes_GET_SIZE(_NEXT) + PyBytes_GET_SIZE(nxt) \
        + PyBytes_GET_SIZE(_DUR) + PyBytes_GET_SIZE(dur) + 1
    for _key, body, origin in rows:
        if type(body) is not bytes:
            raise TypeError("activity bodies must be bytes")
        if PyBytes_GET_SIZE(body) == 0:
            raise ValueError("empty activity body")
        # pages mostly repeat one origin: re-use its encoding (see encode_origin in the reference)
        if origin is None:
            enc = b"null"
        elif type(origin) is not str:
            raise TypeError("origins must be str or None")
        elif origin is last_origin or origin == last_origin:
            enc = last_enc
        else:
            enc = encode_origin(origin)
            last_origin, last_enc = origin, enc
        bodies.append(body)
        encs.append(enc)
        # body minus its closing brace + ,"origin": + origin + } + separating comma
        total += PyBytes_GET_SIZE(body) + PyBytes_GET_SIZE(_ORIGIN) + PyBytes_GET_SIZE(enc) + 1
    n = len(bodies)
    if n > 0:
        total -= 1
    cdef bytes out = PyBytes_FromStringAndSize(NULL, total)
    cdef char* p = PyBytes_AS_STRING(out)
    p = _put(p, _HEAD)
    for i in range(n):
        body = <bytes>bodies[i]
        if i:
            p[0] = b','
            p += 1
        memcpy(p, PyBytes_AS_STRING(body), PyBytes_GET_SIZE(body) - 1)
        p += PyBytes_GET_SIZE(body) - 1
        p = _put(p, _ORIGIN)
        p = _put(p, <bytes>encs[i])
        p[0] = b'}'
        p += 1
    p = _put(p, _NEXT)
    p = _put(p, nxt)
    p = _put(p, _DUR)
    p = _put(p, dur)
    p[0] = b'}'
    return out
