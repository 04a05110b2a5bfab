"""Checks for free-form JSON values clients store (user data, collection item data, analytics).

A stand-in until ``feedline.models.values.check_value`` lands (another branch): the same three
rules, so switching is a rename. A value is stored as canonical bytes and later embedded byte for
byte (enrichment), so it must round-trip through any JSON client: finite numbers that fit 64 bits,
strings without lone surrogates (not encodable as UTF-8), and bounded nesting (a deep value would
make every later decoder recurse).
"""

from __future__ import annotations

import math

from feedline.errors import InputException

MAX_DEPTH = 32
INT_MIN, INT_MAX = -(2**63), 2**64 - 1


def _bad(field: str, why: str) -> InputException:
    return InputException.field(field, why)


def check_plain(value: object, field: str, max_depth: int = MAX_DEPTH) -> None:  # noqa: C901 - one walk, one rule per type
    """Raise InputException (naming ``field``) unless ``value`` is plain, storable JSON."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise _bad(field, "contains a lone surrogate (not valid Unicode)") from None
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT_MIN <= item <= INT_MAX:
                raise _bad(field, "has an integer that does not fit 64 bits")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _bad(field, "has a number that is not finite (NaN or Infinity)")
        elif isinstance(item, (dict, list)):
            if depth >= max_depth:
                raise _bad(field, f"is nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for k, v in item.items():
                    if not isinstance(k, str):
                        raise _bad(field, "has a key that is not a string")
                    stack.append((k, depth + 1))
                    stack.append((v, depth + 1))
            else:
                stack.extend((v, depth + 1) for v in item)
        else:
            raise _bad(field, f"has a value that is not JSON ({type(item).__name__})")
