"""What a client's JSON value must be before it is stored or answered: one reusable check.

Every concept that stores client JSON (activities now; reaction data, users and collections later)
calls ``check_value`` before storage, so a value that some client could not read back is refused
with a 400 at the door instead of being served to everyone who reads it:

- **non-finite numbers**: ujson reads ``1e999`` as ``inf`` and even accepts ``NaN``/``Infinity``
  literals; stored, they would be written back as ``Infinity``/``NaN``, which is not JSON
  (``JSON.parse`` rejects the whole page);
- **lone UTF-16 surrogates** (``"\\ud800"``) in strings or object keys: they have no UTF-8 form, so
  every later ``encode("utf-8")`` (ids, SQLite, the Cassandra driver, the response) would fail;
- **nesting deeper than** ``MAX_DEPTH`` (see there) and values that are not JSON at all.

Nothing here recurses: the walk keeps an explicit stack, so a value nested as deep as the JSON
parser allows (ujson stops at 1024 levels) never hits Python's recursion limit, and error messages
quote client values through ``describe``, which bounds the depth and length of what it prints.
"""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass

import ujson

from feedline.errors import InputException, safe_text

#: Deepest nesting of objects/arrays in a stored value, the value itself counting as level 1 (an
#: activity object with a custom field ``{"a": [1]}`` is 3 deep). Why 32: responses wrap a stored
#: value in up to 4 more levels (an aggregated page is ``{"results":[{"activities":[ <activity>``),
#: and the strictest common client defaults are .NET System.Text.Json (MaxDepth 64), serde_json
#: (128) and Ruby's JSON (max_nesting 100); 32 + 4 stays well under all of them, while real
#: activity data rarely nests more than a few levels. (ujson itself reads up to 1024 levels.)
MAX_DEPTH = 32
#: Most segments a dotted update path (``set``/``unset``: ``a.b.c``) may have: setting one creates
#: that many levels under the activity object, which is level 1.
MAX_PATH_PARTS = MAX_DEPTH - 1

_CONTAINERS = (dict, list, tuple)
_SURROGATE = "contains a lone UTF-16 surrogate (not valid Unicode)"
_NON_FINITE = "is not a finite number (Infinity and NaN are not JSON)"

_describe = reprlib.Repr()
_describe.maxlevel = 3
_describe.maxstring = 60
_describe.maxother = 60
_describe.maxlist = _describe.maxtuple = _describe.maxdict = 6


def describe(value: object) -> str:
    """A short ``repr`` for error messages: bounded in depth and length, so a value nested 1,000
    deep or a megabyte long costs nothing to mention, and never a lone surrogate."""
    return safe_text(_describe.repr(value))


def has_surrogate(text: str) -> bool:
    """True if ``text`` holds a lone UTF-16 surrogate (it has no UTF-8 form)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass(frozen=True, slots=True)
class Problem:
    """Where a value may not be stored (``keys``: object keys and array indices from the top) and why."""

    keys: tuple[str | int, ...]
    reason: str

    @property
    def location(self) -> str:
        """``.a[2].b`` (relative to the checked value; ``""`` for the value itself)."""
        return "".join(f"[{k}]" if isinstance(k, int) else "." + safe_text(k[:40]) for k in self.keys)


def _keys(chain: tuple | None) -> tuple[str | int, ...]:
    out: list[str | int] = []
    while chain is not None:
        chain, key = chain
        out.append(key)
    return tuple(reversed(out))


def _scalar_problem(item: object) -> str | None:
    kind = type(item)
    if kind is str:
        return _SURROGATE if has_surrogate(item) else None  # type: ignore[arg-type]
    if kind is float:
        return None if math.isfinite(item) else _NON_FINITE  # type: ignore[arg-type]
    if kind is int or kind is bool or item is None:
        return None
    return f"is not a JSON value ({kind.__name__})"


def _walk(value: object, max_depth: int | None) -> Problem | None:
    """The exhaustive check. Containers wait on an explicit stack with their depth and a linked
    ``(parent, key)`` chain (built for containers only; turned into a path on error only)."""
    scalar = _scalar_problem(value) if type(value) not in _CONTAINERS else None
    if scalar is not None:
        return Problem((), scalar)
    stack: list[tuple[object, int, tuple | None]] = [(value, 1, None)] if type(value) in _CONTAINERS else []
    pop, push = stack.pop, stack.append
    while stack:
        node, depth, chain = pop()
        if max_depth is not None and depth > max_depth:
            return Problem(_keys(chain), f"is nested deeper than {max_depth} levels")
        is_dict = type(node) is dict
        for key, item in (node.items() if is_dict else enumerate(node)):  # type: ignore[attr-defined,arg-type]
            if is_dict and (type(key) is not str or not key.isascii()):
                if type(key) is not str:
                    return Problem(_keys(chain), f"has a key that is not a string ({type(key).__name__})")
                if has_surrogate(key):
                    return Problem((*_keys(chain), key), "is a key with a lone UTF-16 surrogate (not valid Unicode)")
            kind = type(item)
            if kind is str:
                if not item.isascii() and has_surrogate(item):
                    return Problem((*_keys(chain), key), _SURROGATE)
            elif kind is dict or kind is list or kind is tuple:
                push((item, depth + 1, (chain, key)))
            elif kind is float:
                if not math.isfinite(item):
                    return Problem((*_keys(chain), key), _NON_FINITE)
            elif not (kind is int or kind is bool or item is None):
                return Problem((*_keys(chain), key), f"is not a JSON value ({kind.__name__})")
    return None


def find_problem(value: object, max_depth: int | None = MAX_DEPTH) -> Problem | None:
    """What makes ``value`` unstorable, or None. ``max_depth`` None: no depth bound (the parser's
    own limit applies). Objects are dicts with str keys (the fast path lets ujson stringify int
    keys, as storage would); lists and tuples are arrays.

    Fast path: ujson's C encoder refuses non-finite floats (``allow_nan=False``), its output
    (``ensure_ascii=False``) encodes to UTF-8 only without lone surrogates; and a value cannot nest deeper than the
    number of ``{`` and ``[`` in its JSON text (strings can only add more). So a value that encodes
    and has at most ``max_depth`` brackets (most activities) needs no Python-level walk at all,
    and one with more needs only a depth count by levels (``_deeper_than``). Anything else gets the
    exhaustive walk, which also locates the problem.
    """
    try:
        text = ujson.dumps(value, ensure_ascii=False, allow_nan=False)
        if not text.isascii():
            text.encode("utf-8")  # ujson writes a lone surrogate through; UTF-8 has no form for it
    except (OverflowError, UnicodeEncodeError, TypeError, ValueError):
        pass  # non-finite, surrogate, unknown type, or deeper than ujson's own 1024 levels
    else:
        if (max_depth is None or text.count("{") + text.count("[") <= max_depth
                or not _deeper_than(value, max_depth)):
            return None
    return _walk(value, max_depth)


def _deeper_than(value: object, max_depth: int) -> bool:
    """Depth alone, level by level (the scalars are known good here): for wide values with more
    containers than ``max_depth``, 2-3x cheaper than the full walk, which checks every scalar."""
    level = [value]
    for _ in range(max_depth):
        below: list = []
        push = below.append
        for node in level:
            for item in (node.values() if type(node) is dict else node):  # type: ignore[attr-defined]
                kind = type(item)
                if kind is dict or kind is list or kind is tuple:
                    push(item)
        if not below:
            return False
        level = below
    return True


def check_value(value: object, field: str, max_depth: int | None = MAX_DEPTH) -> None:
    """InputException naming ``field`` unless ``value`` may be stored (see the module docstring)."""
    found = find_problem(value, max_depth)
    if found is not None:
        raise InputException.field(safe_text(field), f"{safe_text(field)}{found.location} {found.reason}")


def check_object(value: object, field: str = "data", *, required: bool) -> dict:
    """A stored JSON object such as reaction, user or collection ``data``: absent (``None``) is
    ``{}`` unless ``required``; anything but an object is a 400; then ``check_value``'s rules."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InputException.field(field, "must be an object")
    check_value(value, field)
    return value


def check_path(path: object, field: str) -> list[str]:
    """The segments of a dotted update path (``a.b.c``), or InputException naming ``field``: a
    non-empty string of at most ``MAX_PATH_PARTS`` non-empty segments, valid Unicode."""
    if not isinstance(path, str) or not path:
        raise InputException.field(field, "paths must be non-empty strings")
    if has_surrogate(path):
        raise InputException.field(field, f"path {describe(path)} contains a lone UTF-16 surrogate")
    parts = path.split(".", MAX_PATH_PARTS)
    if len(parts) > MAX_PATH_PARTS:
        raise InputException.field(field, f"path {describe(path)} has more than {MAX_PATH_PARTS} segments")
    if not all(parts):
        raise InputException.field(path, f"{path!r} cannot be changed")
    return parts
