"""The compiler of aggregation formats: a validated Jinja AST -> small render closures.

Split from ``template`` (which documents the accepted subset and owns the cache): this module walks
the AST once, rejects everything outside the subset, and builds the closures a render calls.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from jinja2 import nodes

from feedline.errors import FeedConfigException

_EPOCH = datetime(1970, 1, 1)
_DT_ATTRS = frozenset({"year", "month", "day", "hour", "minute", "second", "microsecond"})
_STRFTIME_CACHE_MAX = 4096

#: renders one activity: (activity dict, time µs, feed group slug, feed user id) -> group key
RenderFn = Callable[[dict, int, str, str], str]
_Expr = Callable[[dict, int, str, str], Any]


class _Undefined:
    """What an undefined variable evaluates to: renders as "" and is falsy."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return ""

    def __repr__(self) -> str:
        return "Undefined"


UNDEFINED = _Undefined()



def _reject(what: str) -> FeedConfigException:
    return FeedConfigException(f"aggregation format: {what} (supported: variables with dotted access, "
                               "time.strftime(\"...\"), if/elif/else with ==, !=, and, or, not)")


_STMT_NAMES = {
    nodes.For: "loops ({% for %})",
    nodes.Macro: "macros ({% macro %})",
    nodes.CallBlock: "call blocks ({% call %})",
    nodes.Assign: "assignments ({% set %})",
    nodes.AssignBlock: "assignments ({% set %})",
    nodes.FilterBlock: "filters ({% filter %})",
    nodes.With: "{% with %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
    nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
}


def _empty(a: Any, t: Any, fg: Any, fu: Any) -> str:
    return ""


def _constant(text: str) -> RenderFn:
    def render(a: Any, t: Any, fg: Any, fu: Any) -> str:
        return text
    return render


def _to_str(value: Any) -> str:
    if type(value) is str:
        return value
    if value is UNDEFINED:
        return ""
    return str(value)


def _time_of(time_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=time_us)


# strftime directives by the smallest time unit they depend on; a format using only directives up
# to a unit renders the same for every time in one such unit, so its result is memoised per unit.
_DAY_DIRECTIVES = frozenset("aAbBCdDeFgGhjmuUVwWxyY%n" + "t")
_HOUR_DIRECTIVES = _DAY_DIRECTIVES | frozenset("HIklpP")
_MINUTE_DIRECTIVES = _HOUR_DIRECTIVES | frozenset("MR")
_SECOND_DIRECTIVES = _MINUTE_DIRECTIVES | frozenset("ScrsTX")


def _strftime_unit_us(fmt: str) -> int | None:
    """µs in the coarsest time unit that determines ``strftime(fmt)``; None if not memoisable."""
    unit = 86_400_000_000
    i, n = 0, len(fmt)
    while i < n:
        if fmt[i] != "%":
            i += 1
            continue
        i += 1
        while i < n and fmt[i] in "-_0^#":
            i += 1
        while i < n and fmt[i].isdigit():
            i += 1
        if i < n and fmt[i] in "EO":
            i += 1
        if i >= n:
            return None
        c = fmt[i]
        i += 1
        if c in _DAY_DIRECTIVES:
            continue
        if c in _HOUR_DIRECTIVES:
            unit = min(unit, 3_600_000_000)
        elif c in _MINUTE_DIRECTIVES:
            unit = min(unit, 60_000_000)
        elif c in _SECOND_DIRECTIVES:
            unit = min(unit, 1_000_000)
        else:
            return None
    return unit


class _Compiler:
    """Validates the parsed template and turns it into closures ``f(a, t, fg, fu)``."""

    # --- statements ------------------------------------------------------------------------------

    def template(self, tree: nodes.Template) -> RenderFn:
        parts = self.body(tree.body)
        if not parts:
            return _empty
        if len(parts) == 1:
            part = parts[0]
            if isinstance(part, str):
                return _constant(part)
            return part
        return self.join(parts)

    def join(self, parts: list) -> RenderFn:
        """One function for a sequence of constant strings and string-returning functions."""
        if len(parts) == 2:
            p0, p1 = parts
            if isinstance(p0, str):
                return lambda a, t, fg, fu: p0 + p1(a, t, fg, fu)
            if isinstance(p1, str):
                return lambda a, t, fg, fu: p0(a, t, fg, fu) + p1
            return lambda a, t, fg, fu: p0(a, t, fg, fu) + p1(a, t, fg, fu)
        if len(parts) == 3 and not isinstance(parts[0], str) and isinstance(parts[1], str) \
                and not isinstance(parts[2], str):
            # the default format's shape: {{ x }}sep{{ y }}
            f0, sep, f2 = parts
            return lambda a, t, fg, fu: f0(a, t, fg, fu) + sep + f2(a, t, fg, fu)
        template = [p if isinstance(p, str) else "" for p in parts]
        dynamic = tuple((i, p) for i, p in enumerate(parts) if not isinstance(p, str))

        def render(a: dict, t: int, fg: str, fu: str) -> str:
            out = template.copy()
            for i, f in dynamic:
                out[i] = f(a, t, fg, fu)
            return "".join(out)

        return render

    def body(self, stmts: list[nodes.Node]) -> list:
        """Parts of a statement list: constant strings (merged) and string-returning functions."""
        parts: list = []
        for stmt in stmts:
            if isinstance(stmt, nodes.Output):
                for node in stmt.nodes:
                    if isinstance(node, nodes.TemplateData):
                        self._add(parts, node.data)
                    else:
                        self._add(parts, self.output(node))
            elif isinstance(stmt, nodes.If):
                self._add(parts, self.if_(stmt))
            else:
                name = next((v for k, v in _STMT_NAMES.items() if isinstance(stmt, k)),
                            f"the {type(stmt).__name__} statement")
                raise _reject(f"{name} is not supported")
        return parts

    @staticmethod
    def _add(parts: list, part: Any) -> None:
        if isinstance(part, str):
            if not part:
                return
            if parts and isinstance(parts[-1], str):
                parts[-1] += part
                return
        parts.append(part)

    def output(self, node: nodes.Expr) -> str | RenderFn:
        """A function rendering ``{{ node }}`` to a string (or the string itself if constant)."""
        if isinstance(node, nodes.Const):
            self.const(node)
            return _to_str(node.value)
        if isinstance(node, nodes.Name) and node.name not in ("time", "feed"):
            self.name_ok(node.name)
            name = node.name

            def get_str(a: dict, t: int, fg: str, fu: str, _n: str = name) -> str:
                v = a.get(_n, UNDEFINED)
                return v if type(v) is str else _to_str(v)

            return get_str
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) \
                and node.node.name == "feed" and node.attr in ("group", "user_id"):
            if node.attr == "group":
                return lambda a, t, fg, fu: fg
            return lambda a, t, fg, fu: fu
        f = self.expr(node)
        if getattr(f, "returns_str", False):
            return f
        return lambda a, t, fg, fu: _to_str(f(a, t, fg, fu))

    def if_(self, node: nodes.If) -> RenderFn:
        branches: list[tuple[_Expr, RenderFn]] = []
        for cond in [node, *node.elif_]:
            branches.append((self.expr(cond.test), self.template(nodes.Template(cond.body))))  # type: ignore[arg-type]
        otherwise = self.template(nodes.Template(node.else_))
        if len(branches) == 1:
            (test, then), = branches
            return lambda a, t, fg, fu: then(a, t, fg, fu) if test(a, t, fg, fu) else otherwise(a, t, fg, fu)
        chain = tuple(branches)

        def render_if(a: dict, t: int, fg: str, fu: str) -> str:
            for test, then in chain:
                if test(a, t, fg, fu):
                    return then(a, t, fg, fu)
            return otherwise(a, t, fg, fu)

        return render_if

    # --- expressions -----------------------------------------------------------------------------

    @staticmethod
    def name_ok(name: str) -> None:
        if name.startswith("__"):
            raise _reject(f"the name {name!r} is not allowed")

    @staticmethod
    def const(node: nodes.Const) -> Any:
        value = node.value
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise _reject(f"the literal {value!r} is not supported")
        return value

    def expr(self, node: nodes.Expr) -> _Expr:  # noqa: C901 - one branch per whitelisted node type
        if isinstance(node, nodes.Const):
            value = self.const(node)
            return lambda a, t, fg, fu: value
        if isinstance(node, nodes.Name):
            return self.name(node.name)
        if isinstance(node, nodes.Getattr):
            return self.getattr(node)
        if isinstance(node, nodes.Getitem):
            return self.getitem(node)
        if isinstance(node, nodes.Call):
            return self.call(node)
        if isinstance(node, nodes.Compare):
            return self.compare(node)
        if isinstance(node, nodes.And):
            left, right = self.expr(node.left), self.expr(node.right)
            return lambda a, t, fg, fu: left(a, t, fg, fu) and right(a, t, fg, fu)
        if isinstance(node, nodes.Or):
            left, right = self.expr(node.left), self.expr(node.right)
            return lambda a, t, fg, fu: left(a, t, fg, fu) or right(a, t, fg, fu)
        if isinstance(node, nodes.Not):
            inner = self.expr(node.node)
            return lambda a, t, fg, fu: not inner(a, t, fg, fu)
        if isinstance(node, nodes.Filter):
            raise _reject(f"filters are not supported (|{node.name})")
        if isinstance(node, nodes.Test):
            raise _reject(f"tests are not supported (is {node.name})")
        if isinstance(node, nodes.CondExpr):
            raise _reject("inline if-expressions are not supported (use {% if %})")
        if isinstance(node, (nodes.BinExpr, nodes.Concat)):
            op = getattr(node, "operator", "~")
            raise _reject(f"the operator {op!r} is not supported")
        if isinstance(node, nodes.UnaryExpr):
            raise _reject(f"the operator {node.operator!r} is not supported")
        if isinstance(node, (nodes.List, nodes.Tuple, nodes.Dict)):
            raise _reject("list, tuple and dict literals are not supported")
        raise _reject(f"the expression {type(node).__name__} is not supported")

    def name(self, name: str) -> _Expr:
        self.name_ok(name)
        if name == "time":
            return lambda a, t, fg, fu: _time_of(t)
        if name == "feed":
            return lambda a, t, fg, fu: {"group": fg, "user_id": fu}
        return lambda a, t, fg, fu: a.get(name, UNDEFINED)

    def getattr(self, node: nodes.Getattr) -> _Expr:
        attr = node.attr
        if attr.startswith("__"):
            raise _reject(f"the attribute {attr!r} is not allowed")
        base = node.node
        if isinstance(base, nodes.Name):
            if base.name == "feed":
                if attr == "group":
                    return lambda a, t, fg, fu: fg
                if attr == "user_id":
                    return lambda a, t, fg, fu: fu
                return lambda a, t, fg, fu: UNDEFINED
            if base.name == "time":
                if attr in _DT_ATTRS:
                    return lambda a, t, fg, fu: getattr(_time_of(t), attr)
                return lambda a, t, fg, fu: UNDEFINED
            if base.name == "verb" and attr == "infinitive":  # legacy Stream spelling of the verb
                return self.name("verb")
        inner = self.expr(base)

        def get(a: dict, t: int, fg: str, fu: str) -> Any:
            v = inner(a, t, fg, fu)
            if type(v) is dict:
                return v.get(attr, UNDEFINED)
            if isinstance(v, datetime) and attr in _DT_ATTRS:
                return getattr(v, attr)
            return UNDEFINED

        return get

    def getitem(self, node: nodes.Getitem) -> _Expr:
        if not isinstance(node.arg, nodes.Const) or type(node.arg.value) not in (str, int):
            raise _reject("only constant keys are supported in [...]")
        key = node.arg.value
        if isinstance(key, str) and key.startswith("__"):
            raise _reject(f"the key {key!r} is not allowed")
        inner = self.expr(node.node)

        def item(a: dict, t: int, fg: str, fu: str) -> Any:
            v = inner(a, t, fg, fu)
            tv = type(v)
            if tv is dict:
                return v.get(key, UNDEFINED)
            if (tv is list or tv is str or tv is tuple) and type(key) is int and -len(v) <= key < len(v):
                return v[key]
            return UNDEFINED

        return item

    def call(self, node: nodes.Call) -> _Expr:
        target = node.node
        if not isinstance(target, nodes.Getattr) or target.attr != "strftime":
            raise _reject("calls are not supported, except time.strftime(\"...\")")
        if (node.kwargs or node.dyn_args or node.dyn_kwargs or len(node.args) != 1
                or not isinstance(node.args[0], nodes.Const) or type(node.args[0].value) is not str):
            raise _reject("strftime takes exactly one string literal")
        fmt = node.args[0].value
        try:
            datetime(2000, 1, 1).strftime(fmt)
        except (ValueError, UnicodeError) as exc:
            raise _reject(f"invalid strftime format {fmt!r}: {exc}") from None
        if isinstance(target.node, nodes.Name) and target.node.name == "time":
            unit = _strftime_unit_us(fmt)
            if unit is None:
                def strftime_time(a: dict, t: int, fg: str, fu: str) -> str:
                    return _time_of(t).strftime(fmt)
            else:
                memo: dict[int, str] = {}

                def strftime_time(a: dict, t: int, fg: str, fu: str) -> str:
                    bucket = t // unit
                    s = memo.get(bucket)
                    if s is None:
                        if len(memo) >= _STRFTIME_CACHE_MAX:
                            memo.clear()
                        s = memo[bucket] = _time_of(t).strftime(fmt)
                    return s

            strftime_time.returns_str = True  # type: ignore[attr-defined]
            return strftime_time
        inner = self.expr(target.node)

        def strftime_any(a: dict, t: int, fg: str, fu: str) -> Any:
            v = inner(a, t, fg, fu)
            if isinstance(v, datetime):
                return v.strftime(fmt)
            return UNDEFINED

        return strftime_any

    def compare(self, node: nodes.Compare) -> _Expr:
        for op in node.ops:
            if op.op not in ("eq", "ne"):
                sym = {"lt": "<", "lteq": "<=", "gt": ">", "gteq": ">=", "in": "in", "notin": "not in"}
                raise _reject(f"the comparison {sym.get(op.op, op.op)!r} is not supported (only == and !=)")
        first = self.expr(node.expr)
        ops = tuple((op.op == "eq", self.expr(op.expr)) for op in node.ops)
        if len(ops) == 1:
            (eq, second), = ops
            if eq:
                return lambda a, t, fg, fu: first(a, t, fg, fu) == second(a, t, fg, fu)
            return lambda a, t, fg, fu: first(a, t, fg, fu) != second(a, t, fg, fu)

        def chain(a: dict, t: int, fg: str, fu: str) -> bool:
            left = first(a, t, fg, fu)
            for eq, f in ops:
                right = f(a, t, fg, fu)
                if (left == right) != eq:
                    return False
                left = right
            return True

        return chain


__all__ = ["UNDEFINED", "RenderFn", "_Compiler"]
