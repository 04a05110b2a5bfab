# cython: language_level=3
"""Time-uuid ids and activity times, compiled twin of ``_ids_py`` (identical output).

Why compiled: every page turns 25+ keys into UUID text and every cursor parses one; with
``uuid.UUID`` that is ~1.2 µs an id. Here the hex work runs on C chars into a preallocated str.
The layout of keys is documented in ``_ids_py``.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING
from libc.stdint cimport uint64_t, int64_t

from feedline.models import _ids_py

cdef uint64_t GREGORIAN_OFFSET = 0x01B21DD213814000ULL
MIN_TIME_US = _ids_py.MIN_TIME_US
MAX_TIME_US = _ids_py.MAX_TIME_US
cdef const char* HEXD = b"0123456789abcdef"


cdef inline int _hexval(Py_UCS4 c):
    if c >= u'0' and c <= u'9':
        return <int>c - 48
    if c >= u'a' and c <= u'f':
        return <int>c - 87
    if c >= u'A' and c <= u'F':
        return <int>c - 55
    return -1


def key_from_time(long long time_us, bytes lsb):
    if len(lsb) != 8:
        raise ValueError("lsb must be 8 bytes")
    if time_us < _ids_py.MIN_TIME_US - 1 or time_us > 115292150460684697:
        raise ValueError("time out of range for a UUIDv1")
    cdef long long ts = time_us * 10 + <long long>GREGORIAN_OFFSET
    if ts < 0 or ts >= (1LL << 60):
        raise ValueError("time out of range for a UUIDv1")
    cdef bytes out = PyBytes_FromStringAndSize(NULL, 16)
    cdef unsigned char* p = <unsigned char*>PyBytes_AS_STRING(out)
    cdef const unsigned char* l = <const unsigned char*>PyBytes_AS_STRING(lsb)
    cdef int i
    for i in range(8):
        p[i] = <unsigned char>((<uint64_t>ts >> (56 - 8 * i)) & 0xFF)
        p[8 + i] = l[i]
    return out


cdef inline uint64_t _ts_of(const unsigned char* k):
    cdef uint64_t ts = 0
    cdef int i
    for i in range(8):
        ts = (ts << 8) | k[i]
    return ts


def key_time_us(bytes key):
    if len(key) < 8:
        raise ValueError("a key is 16 bytes")
    cdef long long ts = <long long>_ts_of(<const unsigned char*>PyBytes_AS_STRING(key))
    # floor division, as Python's // does
    cdef long long d = ts - <long long>GREGORIAN_OFFSET
    if d >= 0:
        return d // 10
    return -((-d + 9) // 10)


cdef inline void _hex(char* out, uint64_t v, int ndigits):
    cdef int i
    for i in range(ndigits - 1, -1, -1):
        out[i] = HEXD[v & 0xF]
        v >>= 4


def key_to_uuid(bytes key):
    if len(key) != 16:
        raise ValueError("a key is 16 bytes")
    cdef const unsigned char* k = <const unsigned char*>PyBytes_AS_STRING(key)
    cdef uint64_t ts = _ts_of(k)
    cdef char buf[36]
    _hex(buf, ts & 0xFFFFFFFFULL, 8)
    buf[8] = b'-'
    _hex(buf + 9, (ts >> 32) & 0xFFFF, 4)
    buf[13] = b'-'
    _hex(buf + 14, ((ts >> 48) & 0x0FFF) | 0x1000, 4)
    buf[18] = b'-'
    cdef int i
    for i in range(2):
        buf[19 + 2 * i] = HEXD[k[8 + i] >> 4]
        buf[20 + 2 * i] = HEXD[k[8 + i] & 0xF]
    buf[23] = b'-'
    for i in range(6):
        buf[24 + 2 * i] = HEXD[k[10 + i] >> 4]
        buf[25 + 2 * i] = HEXD[k[10 + i] & 0xF]
    return buf[:36].decode("ascii")


def uuid_to_key(str text):
    cdef Py_ssize_t n = len(text)
    cdef unsigned char raw[16]
    cdef int pos = 0, nib, hi = -1
    cdef Py_ssize_t i
    cdef Py_UCS4 c
    if n == 36:
        if text[8] != u'-' or text[13] != u'-' or text[18] != u'-' or text[23] != u'-':
            raise ValueError("not a uuid")
    elif n != 32:
        raise ValueError("not a uuid")
    for i in range(n):
        c = text[i]
        if n == 36 and (i == 8 or i == 13 or i == 18 or i == 23):
            continue
        nib = _hexval(c)
        if nib < 0:
            raise ValueError("not a uuid")
        if hi < 0:
            hi = nib
        else:
            raw[pos] = <unsigned char>((hi << 4) | nib)
            pos += 1
            hi = -1
    if raw[6] >> 4 != 1:
        raise ValueError("not a time-based (version 1) uuid")
    cdef uint64_t time_low = (<uint64_t>raw[0] << 24) | (<uint64_t>raw[1] << 16) | (<uint64_t>raw[2] << 8) | raw[3]
    cdef uint64_t time_mid = (<uint64_t>raw[4] << 8) | raw[5]
    cdef uint64_t time_hi = ((<uint64_t>raw[6] << 8) | raw[7]) & 0x0FFF
    cdef uint64_t ts = (time_hi << 48) | (time_mid << 32) | time_low
    cdef bytes out = PyBytes_FromStringAndSize(NULL, 16)
    cdef unsigned char* p = <unsigned char*>PyBytes_AS_STRING(out)
    for i in range(8):
        p[i] = <unsigned char>((ts >> (56 - 8 * i)) & 0xFF)
        p[8 + i] = raw[8 + i]
    return out


# --- civil calendar (Howard Hinnant's days_from_civil / civil_from_days), proleptic Gregorian ---

cdef inline int64_t _floordiv(int64_t a, int64_t b):
    cdef int64_t q = a // b
    if (a % b != 0) and ((a < 0) != (b < 0)):
        q -= 1
    return q


cdef int64_t _days_from_civil(int64_t y, int64_t m, int64_t d):
    y -= m <= 2
    cdef int64_t era = _floordiv(y, 400)
    cdef int64_t yoe = y - era * 400
    cdef int64_t mp = (m + 9) % 12
    cdef int64_t doy = (153 * mp + 2) // 5 + d - 1
    cdef int64_t doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


cdef inline void _put(char* out, int64_t v, int n):
    cdef int i
    for i in range(n - 1, -1, -1):
        out[i] = <char>(48 + v % 10)
        v //= 10


def format_time(long long time_us):
    cdef int64_t secs = _floordiv(time_us, 1000000)
    cdef int64_t micros = time_us - secs * 1000000
    cdef int64_t days = _floordiv(secs, 86400)
    cdef int64_t sod = secs - days * 86400
    cdef int64_t z = days + 719468
    cdef int64_t era = _floordiv(z, 146097)
    cdef int64_t doe = z - era * 146097
    cdef int64_t yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    cdef int64_t y = yoe + era * 400
    cdef int64_t doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    cdef int64_t mp = (5 * doy + 2) // 153
    cdef int64_t d = doy - (153 * mp + 2) // 5 + 1
    cdef int64_t m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    if y < 1 or y > 9999:
        # outside what the reference (datetime) can express: let it raise the same error
        return _ids_py.format_time(time_us)
    cdef char buf[26]
    _put(buf, y, 4)
    buf[4] = b'-'
    _put(buf + 5, m, 2)
    buf[7] = b'-'
    _put(buf + 8, d, 2)
    buf[10] = b'T'
    _put(buf + 11, sod // 3600, 2)
    buf[13] = b':'
    _put(buf + 14, (sod // 60) % 60, 2)
    buf[16] = b':'
    _put(buf + 17, sod % 60, 2)
    buf[19] = b'.'
    _put(buf + 20, micros, 6)
    return buf[:26].decode("ascii")


cdef inline int _digits(str s, Py_ssize_t start, Py_ssize_t n, int64_t* out):
    cdef int64_t v = 0
    cdef Py_ssize_t i
    cdef Py_UCS4 c
    for i in range(start, start + n):
        c = s[i]
        if c < u'0' or c > u'9':
            return 0
        v = v * 10 + (<int64_t>c - 48)
    out[0] = v
    return 1


cdef int _days_in_month(int64_t y, int64_t m):
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    if m == 4 or m == 6 or m == 9 or m == 11:
        return 30
    return 31


def parse_time(text):
    """Fast path for the canonical ``YYYY-MM-DDTHH:MM:SS.ffffff`` form (what every client sends
    back); any other accepted spelling goes to the reference parser, so results are identical."""
    if type(text) is not str or len(<str>text) != 26:
        return _ids_py.parse_time(text)
    cdef str s = <str>text
    cdef int64_t y, mo, d, h, mi, se, us
    if (s[4] != u'-' or s[7] != u'-' or s[10] != u'T' or s[13] != u':' or s[16] != u':'
            or s[19] != u'.'):
        return _ids_py.parse_time(text)
    if not (_digits(s, 0, 4, &y) and _digits(s, 5, 2, &mo) and _digits(s, 8, 2, &d)
            and _digits(s, 11, 2, &h) and _digits(s, 14, 2, &mi) and _digits(s, 17, 2, &se)
            and _digits(s, 20, 6, &us)):
        return _ids_py.parse_time(text)
    if (y < 1583 or mo < 1 or mo > 12 or d < 1 or d > _days_in_month(y, mo) or h > 23 or mi > 59
            or se > 59):
        return _ids_py.parse_time(text)
    cdef int64_t value = (_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) * 1000000 + us
    if value > <int64_t>MAX_TIME_US:
        return _ids_py.parse_time(text)  # raises the reference's out-of-range error
    return value
