# cython: language_level=3
"""Reference offsets of a stored activity: compiled twin of ``_refs_py`` (contract and blob layout
documented there). One pass over the bytes with a C state machine: this runs on every activity
write, and on reads of rows stored before refs existed (the fallback scan)."""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE

DEF MAX_BODY = 0xFFFF


cdef inline Py_ssize_t _string_end(const unsigned char* b, Py_ssize_t i, Py_ssize_t n) except -1:
    # b[i] is the opening quote; the index after the closing one
    i += 1
    while i < n:
        if b[i] == 0x5C:  # backslash: the next byte is escaped, whatever it is
            i += 2
            continue
        if b[i] == 0x22:
            return i + 1
        i += 1
    raise ValueError("unterminated string")


cdef inline bint _scalar(unsigned char c):
    return (0x30 <= c <= 0x39) or (0x41 <= c <= 0x5A) or (0x61 <= c <= 0x7A) or c == 0x2B or c == 0x2E or c == 0x2D


cdef Py_ssize_t _nested_end(const unsigned char* b, Py_ssize_t i, Py_ssize_t n) except -1:
    cdef Py_ssize_t depth = 0
    cdef unsigned char c
    while i < n:
        c = b[i]
        if c == 0x22:
            i = _string_end(b, i, n)
            continue
        if c == 0x7B or c == 0x5B:
            depth += 1
        elif c == 0x7D or c == 0x5D:
            depth -= 1
            if depth == 0:
                return i + 1
            if depth < 0:
                break
        i += 1
    raise ValueError("unbalanced value")


def find(body):
    if type(body) is not bytes:
        raise TypeError("body must be bytes")
    cdef Py_ssize_t n = PyBytes_GET_SIZE(body)
    if n > MAX_BODY:
        raise ValueError("body too long for 16-bit offsets")
    cdef const unsigned char* b = <const unsigned char*>PyBytes_AS_STRING(body)
    if n < 2 or b[0] != 0x7B:
        raise ValueError("body is not a JSON object")
    cdef unsigned char out[4096]
    cdef Py_ssize_t nout = 0, i = 1, end
    cdef unsigned char c
    cdef list spill = None
    if b[1] == 0x7D:
        i = 2
    else:
        while True:
            if i >= n or b[i] != 0x22:
                raise ValueError(f"expected a key at {i}")
            i = _string_end(b, i, n)
            if i >= n or b[i] != 0x3A:
                raise ValueError(f"expected ':' at {i}")
            i += 1
            if i >= n:
                raise ValueError("truncated body")
            c = b[i]
            if c == 0x22:
                end = _string_end(b, i, n)
                if (end - i >= 4 and b[i + 1] == 0x53 and b[i + 3] == 0x3A
                        and (b[i + 2] == 0x55 or b[i + 2] == 0x4F or b[i + 2] == 0x41 or b[i + 2] == 0x52)):
                    if nout == 4096:  # more references than any real activity has: spill
                        if spill is None:
                            spill = []
                        spill.append(PyBytes_FromStringAndSize(<char*>out, nout))
                        nout = 0
                    out[nout] = i & 0xFF
                    out[nout + 1] = (i >> 8) & 0xFF
                    out[nout + 2] = end & 0xFF
                    out[nout + 3] = (end >> 8) & 0xFF
                    nout += 4
                i = end
            elif c == 0x7B or c == 0x5B:
                i = _nested_end(b, i, n)
            else:
                if not _scalar(c):
                    raise ValueError(f"expected a value at {i}")
                while i < n and _scalar(b[i]):
                    i += 1
            if i >= n:
                raise ValueError("truncated body")
            if b[i] == 0x2C:
                i += 1
                continue
            if b[i] == 0x7D:
                i += 1
                break
            raise ValueError(f"expected ',' or '}}' at {i}")
    if i != n:
        raise ValueError("trailing bytes after the object")
    last = PyBytes_FromStringAndSize(<char*>out, nout)
    if spill is None:
        return last
    spill.append(last)
    return b"".join(spill)
