"""Time-uuid ids and activity times: the pure-Python reference twin of ``_ids_c``.

Internally an activity id is a 16-byte *sort key*: the 60-bit UUIDv1 timestamp big-endian in bytes
0-7, then the UUID's clock-seq and node (bytes 8-15). Byte order of keys is time order, so SQLite
and in-memory code compare keys with memcmp while Cassandra stores the same id as a ``timeuuid``.
The wire form is the canonical UUIDv1 string. Times are microseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: 100 ns ticks between the Gregorian reform (UUID epoch) and the Unix epoch
GREGORIAN_OFFSET = 0x01B21DD213814000
_EPOCH = datetime(1970, 1, 1)
#: the earliest time a UUIDv1 can carry, and the latest we accept (4 digit years)
MIN_TIME_US = -GREGORIAN_OFFSET // 10 + 1
#: the latest a 60-bit UUIDv1 timestamp can carry (in the year 5236)
MAX_TIME_US = ((1 << 60) - 1 - GREGORIAN_OFFSET) // 10
_HEX = "0123456789abcdef"


def key_from_time(time_us: int, lsb: bytes) -> bytes:
    """Sort key for a time (µs since epoch) and the 8 trailing bytes (clock-seq + node)."""
    if len(lsb) != 8:
        raise ValueError("lsb must be 8 bytes")
    ts = time_us * 10 + GREGORIAN_OFFSET
    if ts < 0 or ts >= 1 << 60:
        raise ValueError("time out of range for a UUIDv1")
    return ts.to_bytes(8, "big") + lsb


def key_time_us(key: bytes) -> int:
    """The time of a sort key, in µs since the epoch."""
    return (int.from_bytes(key[:8], "big") - GREGORIAN_OFFSET) // 10


def key_to_uuid(key: bytes) -> str:
    """Canonical UUIDv1 text of a 16-byte sort key."""
    if len(key) != 16:
        raise ValueError("a key is 16 bytes")
    ts = int.from_bytes(key[:8], "big")
    time_low = ts & 0xFFFFFFFF
    time_mid = (ts >> 32) & 0xFFFF
    time_hi = ((ts >> 48) & 0x0FFF) | 0x1000
    tail = key[8:].hex()
    return f"{time_low:08x}-{time_mid:04x}-{time_hi:04x}-{tail[:4]}-{tail[4:]}"


def uuid_to_key(text: str) -> bytes:
    """Sort key of a UUIDv1 string (36 chars with dashes, or 32 hex). ValueError otherwise."""
    if len(text) == 36:
        if text[8] != "-" or text[13] != "-" or text[18] != "-" or text[23] != "-":
            raise ValueError("not a uuid")
        hexs = text[:8] + text[9:13] + text[14:18] + text[19:23] + text[24:]
    elif len(text) == 32:
        hexs = text
    else:
        raise ValueError("not a uuid")
    for ch in hexs:
        if ch not in "0123456789abcdefABCDEF":
            raise ValueError("not a uuid")
    raw = bytes.fromhex(hexs)
    if raw[6] >> 4 != 1:
        raise ValueError("not a time-based (version 1) uuid")
    time_low = int.from_bytes(raw[0:4], "big")
    time_mid = int.from_bytes(raw[4:6], "big")
    time_hi = int.from_bytes(raw[6:8], "big") & 0x0FFF
    ts = (time_hi << 48) | (time_mid << 32) | time_low
    return ts.to_bytes(8, "big") + raw[8:]


def format_time(time_us: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffff``: naive UTC with always 6 fractional digits (Stream's format)."""
    dt = _EPOCH + timedelta(microseconds=time_us)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:"
        f"{dt.second:02d}.{dt.microsecond:06d}"
    )


def parse_time(text: str) -> int:
    """µs since the epoch of an ISO-8601 time; naive means UTC, an offset or ``Z`` is converted.

    Accepts a ``T`` or a space between date and time, 0-9 fractional digits (truncated to µs) and a
    date alone (midnight). Raises ValueError for anything else or a time a UUIDv1 cannot carry.
    """
    if not isinstance(text, str) or not 10 <= len(text) <= 40:
        raise ValueError("not an ISO-8601 time")
    s = text.strip()
    # fromisoformat accepts at most 6 fractional digits: truncate longer fractions (nanoseconds).
    dot = s.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(s) and s[end].isdigit():
            end += 1
        if end - dot - 1 > 6:
            s = s[: dot + 7] + s[end:]
        elif end == dot + 1:
            raise ValueError("not an ISO-8601 time")
    if s.endswith(("z", "Z")):
        s = s[:-1] + "+00:00"
    if len(s) > 10 and s[10] not in "T ":
        raise ValueError("not an ISO-8601 time")
    try:
        dt = datetime.fromisoformat(s)
    except ValueError as exc:
        raise ValueError("not an ISO-8601 time") from exc
    if dt.tzinfo is not None:
        try:
            dt = dt.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # the offset moves it out of years 1-9999 ("0001-01-01T00:00+05:00")
            raise ValueError("time out of range for a UUIDv1 (1582-10-15 to 5236)") from None
    delta = dt - _EPOCH
    value = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not MIN_TIME_US <= value <= MAX_TIME_US:
        raise ValueError("time out of range for a UUIDv1 (1582-10-15 to 5236)")
    return value
