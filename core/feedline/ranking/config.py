"""A feed group's ``"ranking"`` config -> named, compiled ranking methods (start-up time).

Shape (docs/ranking.md)::

    "ranking": {"popular": {"score": "fresh(time) * (1 + ln(1 + popularity)) + 0.1 * likes",
                            "defaults": {"popularity": 0, "likes": 0, "external": {"boost": 1}},
                            "functions": {"fresh": {"base": "decay_gauss", "scale": "1d",
                                                    "offset": "1h", "decay": "0.5"}}}}

Every problem raises ``RankingConfigError`` (a ValueError) naming the group and the method, so a bad
config stops the stack at start-up instead of failing reads later.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from feedline._ext import load
from feedline.ranking.compile import BUILTINS, DECAY_KINDS, Decay, Program, compile_expr
from feedline.ranking.expr import ExprError, parse

_rank = load("feedline.ranking._rank")


class RankingConfigError(ValueError):
    """A ranking method that cannot be served (bad syntax, unknown function, missing default...)."""


UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0, "w": 604_800.0}
_VALUE = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([smhdw]?)\s*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
METHOD_KEYS = frozenset({"score", "defaults", "functions"})
FUNCTION_KEYS = frozenset({"base", "scale", "offset", "decay", "origin"})


def number(value: Any, what: str, *, units: bool = False) -> float:
    """A number given as a JSON number or a string; with ``units``, ``5d``/``1h``... in seconds."""
    if isinstance(value, bool):
        raise ExprError(f"{what} must be a number, not {value!r}")
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, str) and (m := _VALUE.fullmatch(value)):
        if m.group(2) and not units:
            raise ExprError(f"{what} takes no time unit: {value!r}")
        out = float(m.group(1)) * UNITS.get(m.group(2), 1.0)
    else:
        raise ExprError(f"{what} must be a number{' or a time such as 5d' if units else ''}, not {value!r}")
    if not math.isfinite(out):
        raise ExprError(f"{what} must be finite: {value!r}")
    return out


def parse_function(name: str, raw: Any) -> Decay:
    if not isinstance(raw, Mapping):
        raise ExprError(f"function {name!r} must be an object")
    unknown = set(raw) - FUNCTION_KEYS
    if unknown:
        raise ExprError(f"function {name!r}: unknown keys {sorted(unknown)}")
    base = raw.get("base")
    if base not in DECAY_KINDS:
        raise ExprError(f"function {name!r}: base must be one of {', '.join(sorted(DECAY_KINDS))}, not {base!r}")
    scale = number(raw.get("scale", "1d"), f"function {name!r}: scale", units=True)
    offset = number(raw.get("offset", 0), f"function {name!r}: offset", units=True)
    decay = number(raw.get("decay", 0.5), f"function {name!r}: decay")
    origin = None
    if "origin" in raw:
        o = raw["origin"]
        if isinstance(o, str) and not _VALUE.fullmatch(o):
            from feedline.models.ids import parse_time

            try:
                origin = parse_time(o) / 1e6
            except ValueError:
                raise ExprError(f"function {name!r}: origin must be a number or an ISO-8601 time, not {o!r}") from None
        else:
            origin = number(o, f"function {name!r}: origin", units=True)
    if not scale > 0:
        raise ExprError(f"function {name!r}: scale must be > 0")
    if not offset >= 0:
        raise ExprError(f"function {name!r}: offset must be >= 0")
    if not 0 < decay < 1:
        raise ExprError(f"function {name!r}: decay must be between 0 and 1 (exclusive)")
    return Decay(DECAY_KINDS[base], scale, offset, decay, origin)


def flatten_defaults(raw: Any) -> dict[str, float]:
    """``{"a": 1, "meta": {"b": 2}, "external": {"x": 3}}`` -> ``{"a": 1.0, "meta.b": 2.0, "external.x": 3.0}``;
    dotted keys (``"meta.b": 2``) are accepted as they are."""
    if not isinstance(raw, Mapping):
        raise ExprError("defaults must be an object")
    out: dict[str, float] = {}

    def walk(prefix: str, obj: Mapping) -> None:
        for key, value in obj.items():
            if not isinstance(key, str) or not _PATH.fullmatch(key):
                raise ExprError(f"defaults: {prefix + str(key)!r} is not a field name")
            path = prefix + key
            if isinstance(value, Mapping):
                walk(path + ".", value)
            else:
                out[path] = number(value, f"defaults: {path!r}")

    walk("", raw)
    return out


class RankingMethod:
    """One named, compiled ranking method of a feed group.

    ``fields``: every variable the score reads, in order of first use: window fields (``time``,
    top-level or dotted activity fields) and ``external.<name>`` ranking vars.
    ``columns``: the window fields alone (what a ranked read needs per row, ``time`` included).
    """

    __slots__ = ("group", "name", "score", "defaults", "program", "fields", "columns", "externals", "runner")

    def __init__(self, group: str, name: str, score: str, defaults: dict[str, float], program: Program,
                 variables: list[str]) -> None:
        self.group = group
        self.name = name
        self.score = score
        self.defaults = defaults
        self.program = program
        self.columns = program.fields
        self.externals = program.externals
        # variables that the compiler folded away are not read; keep the expression's order
        read = set(program.fields) | {"external." + e for e in program.externals}
        self.fields = tuple(v for v in variables if v in read)
        #: the program loaded into the compiled twin (or the pure one), built once
        self.runner = _rank.Program(program.code, program.nregs, program.result)

    @property
    def uses_rand(self) -> bool:
        return self.program.uses_rand

    def __repr__(self) -> str:
        return f"RankingMethod({self.group!r}, {self.name!r}, {self.score!r})"


def parse_method(group: str, name: str, raw: Any) -> RankingMethod:
    where = f"feed group {group!r}: ranking method {name!r}"
    try:
        if not isinstance(name, str) or not name:
            raise ExprError("a ranking method needs a non-empty name")
        if not isinstance(raw, Mapping):
            raise ExprError("must be an object with a score expression")
        unknown = set(raw) - METHOD_KEYS
        if unknown:
            raise ExprError(f"unknown keys {sorted(unknown)}")
        score = raw.get("score")
        if not isinstance(score, str):
            raise ExprError("score must be an expression string")
        defaults = flatten_defaults(raw.get("defaults", {}))
        functions_raw = raw.get("functions", {})
        if not isinstance(functions_raw, Mapping):
            raise ExprError("functions must be an object")
        functions: dict[str, Decay] = {}
        for fname, spec in functions_raw.items():
            if not isinstance(fname, str) or not _NAME.fullmatch(fname):
                raise ExprError(f"function name {fname!r} is not an identifier")
            key = fname.lower()
            if key in BUILTINS and key not in DECAY_KINDS:
                raise ExprError(f"function {fname!r} would hide the built-in {key}()")
            if key in functions:
                raise ExprError(f"function {fname!r} is defined twice (names are case-insensitive)")
            functions[key] = parse_function(fname, spec)
        tree = parse(score)
        program = compile_expr(tree, defaults, functions)
    except ExprError as exc:
        raise RankingConfigError(f"{where}: {exc}") from None
    from feedline.ranking.expr import variables

    return RankingMethod(group, name, score, defaults, program, variables(tree))


def parse_methods(group_name: str, raw: Any) -> dict[str, RankingMethod]:
    """Every method of a feed group's ``"ranking"`` object, compiled; raises RankingConfigError."""
    if not isinstance(raw, Mapping):
        raise RankingConfigError(f"feed group {group_name!r}: ranking must be an object of named methods")
    return {name: parse_method(group_name, name, spec) for name, spec in raw.items()}
