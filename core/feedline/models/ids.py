"""Activity ids and times: the switch between the compiled and the pure-Python twin.

Ids are deterministic UUIDv1 (Stream's rule, docs/api.md §4.2): the timestamp is the activity time, the
clock-seq is the constant 0x8080 and the node is a 47-bit hash, with the multicast bit set, of the
``foreign_id`` when there is one and of the activity's canonical content otherwise. So the same
``foreign_id`` + ``time`` always yields the same id (re-adding replaces) and identical content at
the same time dedupes.
"""

from __future__ import annotations

import hashlib

from feedline._ext import load

_impl = load("feedline.models._ids")

key_from_time = _impl.key_from_time
key_time_us = _impl.key_time_us
key_to_uuid = _impl.key_to_uuid
uuid_to_key = _impl.uuid_to_key
format_time = _impl.format_time
parse_time = _impl.parse_time
MIN_TIME_US = _impl.MIN_TIME_US
MAX_TIME_US = _impl.MAX_TIME_US

CLOCK_SEQ = b"\x80\x80"


def node_lsb(identity: bytes) -> bytes:
    """The 8 trailing id bytes for an identity: clock-seq + hashed node with the multicast bit."""
    node = bytearray(hashlib.blake2b(identity, digest_size=6).digest())
    node[0] |= 0x01  # multicast bit: marks the node as not a real MAC address (RFC 4122 §4.5)
    return CLOCK_SEQ + bytes(node)


def activity_key(time_us: int, identity: bytes) -> bytes:
    return key_from_time(time_us, node_lsb(identity))
