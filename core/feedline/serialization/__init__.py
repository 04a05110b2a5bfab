"""Canonical activity bytes and response assembly from stored bytes.

Each activity is stored once as the exact JSON bytes the API returns for it (without the per-copy
``origin``). Reads splice those bytes into the response envelope instead of decoding and
re-encoding them (PERF-NOTES: 4.5 µs vs 130 µs for a 25-activity page).
"""

from feedline._ext import load

_impl = load("feedline.serialization._activity")

encode_activity = _impl.encode_activity
encode_origin = _impl.encode_origin
assemble_page = _impl.assemble_page
with_duration = _impl.with_duration
json_bytes = _impl.json_bytes

__all__ = ["encode_activity", "encode_origin", "assemble_page", "with_duration", "json_bytes"]
