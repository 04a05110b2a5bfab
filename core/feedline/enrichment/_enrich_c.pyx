# cython: language_level=3
"""Enriched pages from stored bytes: compiled twin of ``_enrich_py`` (contract, layout and the
order of its input checks are documented there; this twin raises the same exception types).

Why compiled: an enriched page is the one read that touches hundreds of stored pieces (25
activities, their references, up to 25 x kinds x 5 reactions each with its user). Here each output
is measured once and written by memcpy into one preallocated bytes object: no intermediate bytes
per reference, per reaction list or per map.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdio cimport snprintf
from libc.string cimport memcpy

from feedline.enrichment._refs_c import find
from feedline.serialization._activity_py import json_bytes

cdef bytes _ORIGIN = b',"origin":'
cdef bytes _USER = b',"user":'


cdef inline char* _put(char* p, bytes b):
    cdef Py_ssize_t n = PyBytes_GET_SIZE(b)
    memcpy(p, PyBytes_AS_STRING(b), n)
    return p + n


cdef inline char* _putc(char* p, const char* s, Py_ssize_t n):
    memcpy(p, s, n)
    return p + n


cdef bytes _check_body(object body):
    if type(body) is not bytes:
        raise TypeError("bodies must be bytes")
    cdef Py_ssize_t n = PyBytes_GET_SIZE(<bytes>body)
    if n == 0 or PyBytes_AS_STRING(<bytes>body)[n - 1] != b'}':
        raise ValueError("a body must be a JSON object")
    return <bytes>body


cdef inline bytes _check_bytes(object value, str what):
    if type(value) is not bytes:
        raise TypeError(f"{what} must be bytes")
    return <bytes>value


cdef list _plan(bytes body, object blob, dict resolved):
    """``[start, end, value, start, end, value, ...]`` for the references of ``body`` found in
    ``resolved`` (checked as ``_enrich_py._ranges``/``_splice`` do)."""
    if blob is None:
        blob = find(body)
    elif type(blob) is not bytes:
        raise TypeError("refs must be bytes or None")
    cdef Py_ssize_t nb = PyBytes_GET_SIZE(<bytes>blob)
    if nb % 4:
        raise ValueError("refs blob length is not a multiple of 4")
    cdef const unsigned char* r = <const unsigned char*>PyBytes_AS_STRING(<bytes>blob)
    cdef const char* b = PyBytes_AS_STRING(body)
    cdef Py_ssize_t last = PyBytes_GET_SIZE(body) - 1, prev = 0, s, e, p
    cdef list out = []
    cdef object value
    for p in range(0, nb, 4):  # every range is checked before any value is looked up
        s = r[p] | (r[p + 1] << 8)
        e = r[p + 2] | (r[p + 3] << 8)
        if s < prev or e - s < 2 or e > last or b[s] != b'"' or b[e - 1] != b'"':
            raise ValueError(f"bad reference range {s}..{e}")
        prev = e
    for p in range(0, nb, 4):
        s = r[p] | (r[p + 1] << 8)
        e = r[p + 2] | (r[p + 3] << 8)
        value = resolved.get(PyBytes_FromStringAndSize(b + s, e - s))
        if value is None:
            continue
        if type(value) is not bytes:
            raise TypeError("resolved values must be bytes")
        out.append(s)
        out.append(e)
        out.append(value)
    return out


cdef Py_ssize_t _spliced_size(bytes body, list plan):
    """Size of the body minus its closing brace, with the planned replacements."""
    cdef Py_ssize_t n = PyBytes_GET_SIZE(body) - 1, i
    for i in range(0, len(plan), 3):
        n += PyBytes_GET_SIZE(<bytes>plan[i + 2]) - (<Py_ssize_t>plan[i + 1] - <Py_ssize_t>plan[i])
    return n


cdef char* _write_spliced(char* p, bytes body, list plan):
    cdef const char* b = PyBytes_AS_STRING(body)
    cdef Py_ssize_t pos = 0, s, e, i
    for i in range(0, len(plan), 3):
        s = <Py_ssize_t>plan[i]
        e = <Py_ssize_t>plan[i + 1]
        p = _putc(p, b + pos, s - pos)
        p = _put(p, <bytes>plan[i + 2])
        pos = e
    return _putc(p, b + pos, PyBytes_GET_SIZE(body) - 1 - pos)


cdef void _lengths(Py_ssize_t n, object refs, object origins, object tails) except *:
    if len(refs) != n or (origins is not None and len(origins) != n) or (tails is not None and len(tails) != n):
        raise ValueError("every per-activity list needs one entry per body")


def enrich_bodies(bodies, refs, resolved, tails):
    if type(resolved) is not dict:
        raise TypeError("resolved must be a dict")
    cdef Py_ssize_t n = len(bodies), i, size
    _lengths(n, refs, None, tails)
    cdef list out = [None] * n
    cdef bytes body, tail, res
    cdef list plan
    cdef char* p
    for i in range(n):
        body = _check_body(bodies[i])
        tail = b"" if tails is None else _check_bytes(tails[i], "tails")
        plan = _plan(body, refs[i], <dict>resolved)
        size = _spliced_size(body, plan) + PyBytes_GET_SIZE(tail) + 1
        res = PyBytes_FromStringAndSize(NULL, size)
        p = _write_spliced(PyBytes_AS_STRING(res), body, plan)
        p = _put(p, tail)
        p[0] = b'}'
        out[i] = res
    return out


def enrich_page(bodies, refs, origins, resolved, tails, str next_url, str duration):
    if type(resolved) is not dict:
        raise TypeError("resolved must be a dict")
    cdef Py_ssize_t n = len(bodies), i, total
    _lengths(n, refs, origins, tails)
    cdef list bs = [None] * n, plans = [None] * n, os = [None] * n, ts = [None] * n
    cdef bytes body, origin, tail
    cdef list plan
    cdef bytes head = b'{"results":['
    cdef bytes foot = b'],"next":' + json_bytes(next_url) + b',"duration":' + json_bytes(duration) + b"}"
    total = PyBytes_GET_SIZE(head) + PyBytes_GET_SIZE(foot) + (n - 1 if n else 0)
    for i in range(n):
        body = _check_body(bodies[i])
        origin = _check_bytes(origins[i], "origins")
        tail = b"" if tails is None else _check_bytes(tails[i], "tails")
        plan = _plan(body, refs[i], <dict>resolved)
        bs[i], plans[i], os[i], ts[i] = body, plan, origin, tail
        total += _spliced_size(body, plan) + PyBytes_GET_SIZE(_ORIGIN) + PyBytes_GET_SIZE(origin) \
            + PyBytes_GET_SIZE(tail) + 1
    cdef bytes out = PyBytes_FromStringAndSize(NULL, total)
    cdef char* p = _put(PyBytes_AS_STRING(out), head)
    for i in range(n):
        if i:
            p[0] = b','
            p += 1
        p = _write_spliced(p, <bytes>bs[i], <list>plans[i])
        p = _put(p, _ORIGIN)
        p = _put(p, <bytes>os[i])
        p = _put(p, <bytes>ts[i])
        p[0] = b'}'
        p += 1
    _put(p, foot)
    return out


# ---- page tokens and reaction members ----------------------------------------------------------

def page_tokens(bodies, refs):
    if len(refs) != len(bodies):
        raise ValueError("every per-activity list needs one entry per body")
    cdef dict seen = {}
    cdef Py_ssize_t i, p, nb, s, e, last, prev
    cdef bytes body
    cdef object blob
    cdef const unsigned char* r
    cdef const char* b
    cdef list toks = []
    for i in range(len(bodies)):
        body = _check_body(bodies[i])
        blob = refs[i]
        if blob is None:
            blob = find(body)
        elif type(blob) is not bytes:
            raise TypeError("refs must be bytes or None")
        nb = PyBytes_GET_SIZE(<bytes>blob)
        if nb % 4:
            raise ValueError("refs blob length is not a multiple of 4")
        r = <const unsigned char*>PyBytes_AS_STRING(<bytes>blob)
        b = PyBytes_AS_STRING(body)
        last = PyBytes_GET_SIZE(body) - 1
        prev = 0
        toks.clear()
        for p in range(0, nb, 4):
            s = r[p] | (r[p + 1] << 8)
            e = r[p + 2] | (r[p + 3] << 8)
            if s < prev or e - s < 2 or e > last or b[s] != b'"' or b[e - 1] != b'"':
                raise ValueError(f"bad reference range {s}..{e}")
            prev = e
            toks.append(PyBytes_FromStringAndSize(b + s, e - s))
        for tok in toks:
            seen[tok] = None
    return list(seen)


cdef inline str _check_str(object value, str what):
    if type(value) is not str:
        raise TypeError(f"{what} must be str")
    return <str>value


cdef object _safe_ascii(str text):
    """``text`` as ASCII bytes when it is printable ASCII without a quote or a backslash (its JSON
    string is then ``"`` + it + ``"``, byte-identical to ``json_bytes``), else None."""
    if not text.isascii():
        return None
    cdef bytes raw = text.encode("ascii")
    cdef Py_ssize_t i, n = PyBytes_GET_SIZE(raw)
    cdef const unsigned char* b = <const unsigned char*>PyBytes_AS_STRING(raw)
    for i in range(n):
        if b[i] < 0x20 or b[i] > 0x7E or b[i] == 0x22 or b[i] == 0x5C:
            return None
    return raw


cdef bytes _NEXT_HEAD = b':{"next":"'
cdef bytes _NEXT_TAIL = b'"}'
cdef bytes _SLASH = b"/"
cdef bytes _ID_LT = b"/?id_lt="


cdef bytes _link(bytes kj, bytes pre, bytes aid, bytes kind, bytes lid, bytes suf):
    """``kind:{"next":"<pre><aid>/<kind>/?id_lt=<lid><suf>"}`` from safe ASCII parts, one copy."""
    cdef bytes out = PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(kj) + PyBytes_GET_SIZE(_NEXT_HEAD)
                                               + PyBytes_GET_SIZE(pre) + PyBytes_GET_SIZE(aid) + 1
                                               + PyBytes_GET_SIZE(kind) + PyBytes_GET_SIZE(_ID_LT)
                                               + PyBytes_GET_SIZE(lid) + PyBytes_GET_SIZE(suf)
                                               + PyBytes_GET_SIZE(_NEXT_TAIL))
    cdef char* p = _put(PyBytes_AS_STRING(out), kj)
    p = _put(p, _NEXT_HEAD)
    p = _put(p, pre)
    p = _put(p, aid)
    p = _put(p, _SLASH)
    p = _put(p, kind)
    p = _put(p, _ID_LT)
    p = _put(p, lid)
    p = _put(p, suf)
    _put(p, _NEXT_TAIL)
    return out


cdef bytes _count_member(bytes kj, object c):
    """``kind:n`` (``b"%d" % n`` for counts beyond 64 bits)."""
    cdef char buf[24]
    cdef long long v
    cdef int m
    try:
        v = c
    except OverflowError:
        return kj + b":%d" % c
    m = snprintf(buf, 24, "%lld", v)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(kj) + 1 + m)
    cdef char* p = _put(PyBytes_AS_STRING(out), kj)
    p[0] = b':'
    memcpy(p + 1, buf, m)
    return out


cdef struct Cells:
    # per row: its reaction's size and the next row of the same list (-1 ends it); per list (a
    # cell = activity x kind, latest lists then own lists): its first and last row (-1: empty)
    # and how many rows it has
    Py_ssize_t* size
    Py_ssize_t* nxt
    Py_ssize_t* head
    Py_ssize_t* tail
    Py_ssize_t* count


cdef Py_ssize_t _list_bytes(Cells* c, Py_ssize_t cell) noexcept:
    """Size of ``[r,r,...]`` for one list (0 if empty)."""
    cdef Py_ssize_t r = c.head[cell], size = 1
    if r < 0:
        return 0
    while r >= 0:
        size += c.size[r] + 1  # the reaction and a comma or the closing bracket
        r = c.nxt[r]
    return size


cdef char* _write_reaction(char* p, tuple row, object user):
    cdef bytes body = <bytes>row[5]
    p = _putc(p, PyBytes_AS_STRING(body), PyBytes_GET_SIZE(body) - 1)
    p = _put(p, <bytes>row[6])
    p = _put(p, _USER)
    p = _put(p, <bytes>user)
    p[0] = b'}'
    return p + 1


cdef Py_ssize_t _map_size(bytes name, list kjson, Cells* c, Py_ssize_t base, Py_ssize_t k) noexcept:
    cdef Py_ssize_t j, n, size = PyBytes_GET_SIZE(name) + 1, first = 1
    for j in range(k):
        n = _list_bytes(c, base + j)
        if n:
            size += PyBytes_GET_SIZE(<bytes>kjson[j]) + 1 + n + (0 if first else 1)
            first = 0
    return size


cdef char* _write_map(char* p, bytes name, list kjson, Cells* c, Py_ssize_t base, Py_ssize_t k,
                      list rows, list users):
    """``name`` + ``kind:[r,...]`` over the kinds whose list is not empty + ``}``."""
    cdef Py_ssize_t j, r, first = 1
    p = _put(p, name)
    for j in range(k):
        r = c.head[base + j]
        if r < 0:
            continue
        if not first:
            p[0] = b','
            p += 1
        first = 0
        p = _put(p, <bytes>kjson[j])
        p[0] = b':'
        p[1] = b'['
        p += 2
        while r >= 0:
            p = _write_reaction(p, <tuple>rows[r], users[r])
            r = c.nxt[r]
            p[0] = b',' if r >= 0 else b']'
            p += 1
    p[0] = b'}'
    return p + 1


cdef bytes _LATEST = b',"latest_reactions":{'
cdef bytes _OWN = b',"own_reactions":{'


def reaction_tails(activity_ids, kinds, counts, rows, users, bint with_counts, bint with_latest, bint with_own,
                   str next_prefix, str next_suffix):
    """Reactions are not built one by one: each activity's members are measured, then written by
    memcpy from the rows' bodies and the users' bytes into one bytes object."""
    if type(users) is not dict:
        raise TypeError("users must be a dict")
    cdef dict aidx = {}, kidx = {}
    for a in activity_ids:
        _check_str(a, "activity ids")
        if a not in aidx:
            aidx[a] = len(aidx)
    cdef Py_ssize_t j = 0, k, n, cells, i, cell, base, r, nrows, size, shown
    for kd in kinds:
        kidx[_check_str(kd, "kinds")] = j
        j += 1
    cdef list ks = list(kinds)
    cdef list kjson = [json_bytes(kd) for kd in ks]
    k = len(ks)
    n = len(aidx)
    cells = n * k
    cdef list count = [0] * cells
    cdef tuple row
    cdef object oi, oj, c, user, slot
    for obj in counts:
        if type(obj) is not tuple or len(<tuple>obj) != 3:
            raise TypeError("count rows must be (activity_id, kind, n) tuples")
        row = <tuple>obj
        c = row[2]
        if type(c) is not int:
            raise TypeError("counts must be ints")
        oi = aidx.get(_check_str(row[0], "activity ids"))
        oj = kidx.get(_check_str(row[1], "kinds"))
        if oi is not None and oj is not None:
            count[<Py_ssize_t>oi * k + <Py_ssize_t>oj] = c
    cdef list rowlist = list(rows)
    nrows = len(rowlist)
    cdef list row_users = [None] * nrows
    cdef list last_id = [""] * cells
    cdef Cells cs, own_cs
    cdef Py_ssize_t* mem = <Py_ssize_t*>PyMem_Malloc((2 * nrows + 6 * cells + 1) * sizeof(Py_ssize_t))
    if mem == NULL:
        raise MemoryError()
    cs.size, cs.nxt = mem, mem + nrows
    cs.head, cs.tail, cs.count = mem + 2 * nrows, mem + 2 * nrows + 2 * cells, mem + 2 * nrows + 4 * cells
    cdef bytes body, members, extra, counted, out
    cdef list tails = [None] * n, parts, links
    cdef list uniq = list(aidx)
    cdef str aid, url
    cdef char* p
    try:
        for i in range(2 * cells):
            cs.head[i] = -1
            cs.tail[i] = -1
            cs.count[i] = 0
        for r in range(nrows):
            obj = rowlist[r]
            cs.nxt[r] = -1
            cs.size[r] = 0
            if type(obj) is not tuple or len(<tuple>obj) != 7:
                raise TypeError("reaction rows must be (activity_id, kind, slot, id, user_id, body, members) tuples")
            row = <tuple>obj
            _check_str(row[0], "activity ids")
            _check_str(row[1], "kinds")
            _check_str(row[3], "reaction ids")
            slot = row[2]
            if type(slot) is not int:
                raise TypeError("slot must be an int")
            if type(row[5]) is not bytes or type(row[6]) is not bytes:
                raise TypeError("reaction bodies and members must be bytes")
            body, members = <bytes>row[5], <bytes>row[6]
            if PyBytes_GET_SIZE(body) == 0 or PyBytes_AS_STRING(body)[PyBytes_GET_SIZE(body) - 1] != b'}':
                raise ValueError("a reaction body must be a JSON object")
            user = (<dict>users)[_check_str(row[4], "user ids")]
            if type(user) is not bytes:
                raise TypeError("users must map to bytes")
            oi = aidx.get(row[0])
            oj = kidx.get(row[1])
            if oi is None or oj is None:
                continue
            cell = <Py_ssize_t>oi * k + <Py_ssize_t>oj
            if slot == 0:
                last_id[cell] = row[3]
            elif slot == 1:
                cell += cells  # own lists follow the latest ones
            else:
                raise ValueError("slot must be 0 (latest) or 1 (own)")
            row_users[r] = user
            cs.size[r] = PyBytes_GET_SIZE(body) - 1 + PyBytes_GET_SIZE(members) + PyBytes_GET_SIZE(_USER) \
                + PyBytes_GET_SIZE(<bytes>user) + 1
            if cs.tail[cell] < 0:
                cs.head[cell] = r
            else:
                cs.nxt[cs.tail[cell]] = r
            cs.tail[cell] = r
            cs.count[cell] += 1
        own_cs = cs
        own_cs.head = cs.head + cells
        own_cs.count = cs.count + cells
        pre, suf = _safe_ascii(next_prefix), _safe_ascii(next_suffix)
        kraw = [_safe_ascii(kd) for kd in ks]
        for i in range(n):
            base = i * k
            aid = <str>uniq[i]
            extra = counted = b""
            if with_latest:
                links = []
                araw = _safe_ascii(aid)
                for j in range(k):
                    shown = cs.count[base + j]
                    if shown:
                        if count[base + j] <= shown:
                            links.append(<bytes>kjson[j] + b':{"next":""}')
                            continue
                        lraw = _safe_ascii(<str>last_id[base + j])
                        if pre is not None and suf is not None and araw is not None and kraw[j] is not None \
                                and lraw is not None:
                            links.append(_link(<bytes>kjson[j], pre, araw, kraw[j], lraw, suf))
                        else:
                            url = next_prefix + aid + "/" + <str>ks[j] + "/?id_lt=" + <str>last_id[base + j] + next_suffix
                            links.append(<bytes>kjson[j] + b':{"next":' + json_bytes(url) + b"}")
                extra = b',"latest_reactions_extra":{' + b",".join(links) + b"}"
            if with_counts:
                parts = []
                for j in range(k):
                    if count[base + j]:
                        parts.append(_count_member(<bytes>kjson[j], count[base + j]))
                counted = b',"reaction_counts":{' + b",".join(parts) + b"}"
            size = PyBytes_GET_SIZE(extra) + PyBytes_GET_SIZE(counted)
            if with_latest:
                size += _map_size(_LATEST, kjson, &cs, base, k)
            if with_own:
                size += _map_size(_OWN, kjson, &own_cs, base, k)
            out = PyBytes_FromStringAndSize(NULL, size)
            p = PyBytes_AS_STRING(out)
            if with_latest:
                p = _write_map(p, _LATEST, kjson, &cs, base, k, rowlist, row_users)
                p = _put(p, extra)
            if with_own:
                p = _write_map(p, _OWN, kjson, &own_cs, base, k, rowlist, row_users)
            _put(p, counted)
            tails[i] = out
    finally:
        PyMem_Free(mem)
    return [tails[<Py_ssize_t>aidx[a]] for a in activity_ids]
