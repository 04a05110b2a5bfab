"""Aggregation format templates (docs/api.md §2.4): parsed once by Jinja's sandbox, rendered by closures.

A feed group's ``aggregation_format`` (default ``{{ verb }}_{{ time.strftime("%Y-%m-%d") }}``) is
rendered at write time into the ``group`` key of the timeline entry. ``compile_format`` parses the
format with ``jinja2.sandbox.ImmutableSandboxedEnvironment.parse`` (Jinja's own lexer and parser, so
whitespace control, raw blocks and comments behave as in Jinja), then walks the AST and accepts only
this subset, raising ``FeedConfigException`` for anything else:

- output of expressions ``{{ ... }}`` and literal text;
- variables: ``verb``, ``actor``, ``object``, ``target``, ``foreign_id``, ``id``, ``time``,
  ``feed.group``, ``feed.user_id`` and any custom field of the activity, with dotted access into
  nested objects (``data.kind``), constant item access (``data["kind"]``, ``tags.0``) and the legacy
  ``verb.infinitive`` (= ``verb``);
- ``time`` is a naive UTC ``datetime``: ``time.strftime("...")`` (literal format) and the attributes
  ``year month day hour minute second microsecond``; no other call is allowed;
- ``{% if %}``/``{% elif %}``/``{% else %}``/``{% endif %}`` with ``==``, ``!=``, ``and``, ``or``,
  ``not``, bare truth tests and literals (strings, numbers, ``true``/``false``/``none``).

Rejected at compile time: syntax errors, loops, macros, ``set``, includes/blocks, every filter and
test (``|upper``, ``is defined``), calls other than ``.strftime``, arithmetic and other operators,
and any name, attribute or key starting with ``__``.

Rendering does not run Jinja's generated code (about 60 µs a render through ``Template.render``
here): the validated AST is turned into small closures once, so a render costs about a microsecond.
Their semantics are Jinja's for this subset (values are rendered with ``str``: ``None`` renders as
``None``, ``true`` as ``True``), except that undefined values never raise: an undefined variable,
a missing key or attribute, or anything reached through an undefined value renders as ``""`` and
is falsy (Jinja's ``ChainableUndefined``). Dotted access into an object reads its keys only, never
Python attributes (``{{ data.items }}`` is the ``items`` key, not the ``dict.items`` method).
``tests/unit/test_aggregation.py`` checks the closures against Jinja's own rendering.

Compiled formats are cached by their text: a group's format is compiled once per process.
"""

from __future__ import annotations

from jinja2 import nodes
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from feedline.aggregation._compile import UNDEFINED, RenderFn, _Compiler
from feedline.errors import FeedConfigException

DEFAULT_FORMAT = '{{ verb }}_{{ time.strftime("%Y-%m-%d") }}'
#: longest format accepted (Stream documents none; this bounds parse time and recursion depth)
MAX_FORMAT_LENGTH = 2000
_CACHE_MAX = 512


class GroupFormat:
    """A compiled aggregation format.

    ``render(activity, time_us, feed_group, feed_user_id) -> str`` is a plain function stored on
    the instance (no bound-method overhead). ``activity`` is the stored activity dict (``id``,
    ``actor``, ``verb``, ``object``, ``target``, ``foreign_id``, ``time`` as text, custom fields);
    the template's ``time`` is built from ``time_us`` instead of the text.

    ``uses_feed``: the format names ``feed`` somewhere (``feed.group``, ``feed.user_id``). When it
    does not, the key is the same in every feed, so a fan-out renders it once per activity, not once
    per follower (``feeds.grouped.AggregatedFeed.entries``).
    """

    __slots__ = ("format", "render", "uses_feed")
    format: str
    render: RenderFn
    uses_feed: bool

    def __init__(self, fmt: str, render: RenderFn, uses_feed: bool = True):
        self.format = fmt
        self.render = render
        self.uses_feed = uses_feed

    def __repr__(self) -> str:
        return f"GroupFormat({self.format!r})"


_env: ImmutableSandboxedEnvironment | None = None
_cache: dict[str, GroupFormat] = {}


def _environment() -> ImmutableSandboxedEnvironment:
    global _env
    if _env is None:
        _env = ImmutableSandboxedEnvironment(autoescape=False)
    return _env


def compile_format(fmt: str) -> GroupFormat:
    """Compile (or fetch from the cache) an aggregation format. FeedConfigException if invalid."""
    found = _cache.get(fmt) if isinstance(fmt, str) else None
    if found is not None:
        return found
    if not isinstance(fmt, str):
        raise FeedConfigException("aggregation format must be a string")
    if len(fmt) > MAX_FORMAT_LENGTH:
        raise FeedConfigException(f"aggregation format is longer than {MAX_FORMAT_LENGTH} characters")
    try:
        tree = _environment().parse(fmt)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise FeedConfigException(f"aggregation format has invalid syntax{where}: {exc.message}") from None
    except RecursionError:
        raise FeedConfigException("aggregation format is nested too deeply") from None
    try:
        render = _Compiler().template(tree)
    except RecursionError:
        raise FeedConfigException("aggregation format is nested too deeply") from None
    # every way to the feed's slug and user id goes through the name ``feed`` (the compiler reads
    # them nowhere else), so a tree without that name renders the same for every feed
    uses_feed = any(node.name == "feed" for node in tree.find_all(nodes.Name))
    compiled = GroupFormat(fmt, render, uses_feed)
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[fmt] = compiled
    return compiled


__all__ = ["DEFAULT_FORMAT", "UNDEFINED", "GroupFormat", "compile_format"]
