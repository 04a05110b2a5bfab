"""The score expression language: tokenizer and recursive-descent parser to a small tuple AST.

Precedence, lowest first (docs/ranking.md): ternary ``?:`` (right-assoc) < ``||`` < ``&&`` <
comparisons ``== != < <= > >=`` (left-assoc) < ``+ -`` < ``* /`` < unary ``- + !`` < ``^`` (power,
right-assoc, binds tighter than unary minus: ``-2^2 = -4``, ``2^-1 = 0.5``, ``2^3^2 = 512``).

AST nodes (tuples, so the compiler can pattern-match them cheaply):
``("num", float)``, ``("str", text)``, ``("var", "a.b.c")``, ``("un", op, x)``, ``("bin", op, a, b)``,
``("tern", cond, then, else)``, ``("call", lowercased name, [args])``.
"""

from __future__ import annotations

import re

MAX_SOURCE = 4096
MAX_DEPTH = 64
#: the compiler walks the tree recursively: bound it well below Python's recursion limit
MAX_TREE_DEPTH = 200


class ExprError(ValueError):
    """The expression does not parse (the config layer adds the group and method)."""


_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<str>\"[^\"\\]*\"|'[^'\\]*')"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[-+*/^()<>!?:,])"
    r")"
)

_CMP = {"==", "!=", "<", "<=", ">", ">="}


def tokenize(src: str) -> list[tuple[str, str, int]]:
    """``(kind, text, position)`` tokens, ending with ``("end", "", len)``."""
    out: list[tuple[str, str, int]] = []
    pos = 0
    n = len(src)
    while True:
        while pos < n and src[pos].isspace():
            pos += 1
        if pos >= n:
            break
        m = _TOKEN.match(src, pos)
        if m is None or m.lastgroup is None:
            raise ExprError(f"unexpected character {src[pos]!r} at position {pos}")
        kind = m.lastgroup
        text = m.group(kind)
        out.append((kind, text, m.start(kind)))
        pos = m.end()
    out.append(("end", "", n))
    return out


class _Parser:
    def __init__(self, src: str) -> None:
        self.toks = tokenize(src)
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        kind, got, pos = self.take()
        if kind != "op" or got != text:
            raise ExprError(f"expected {text!r} at position {pos}, found {got or 'the end'!r}")

    def is_op(self, *texts: str) -> bool:
        kind, text, _ = self.toks[self.i]
        return kind == "op" and text in texts

    def parse(self) -> tuple:
        node = self.ternary()
        kind, text, pos = self.peek()
        if kind != "end":
            raise ExprError(f"unexpected {text!r} at position {pos}")
        return node

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"expression nested deeper than {MAX_DEPTH} levels")

    def ternary(self) -> tuple:
        self.enter()
        cond = self.or_()
        if self.is_op("?"):
            self.take()
            then = self.ternary()
            self.expect(":")
            other = self.ternary()
            cond = ("tern", cond, then, other)
        self.depth -= 1
        return cond

    def or_(self) -> tuple:
        node = self.and_()
        while self.is_op("||"):
            self.take()
            node = ("bin", "||", node, self.and_())
        return node

    def and_(self) -> tuple:
        node = self.cmp()
        while self.is_op("&&"):
            self.take()
            node = ("bin", "&&", node, self.cmp())
        return node

    def cmp(self) -> tuple:
        node = self.add()
        while self.peek()[0] == "op" and self.peek()[1] in _CMP:
            op = self.take()[1]
            node = ("bin", op, node, self.add())
        return node

    def add(self) -> tuple:
        node = self.mul()
        while self.is_op("+", "-"):
            op = self.take()[1]
            node = ("bin", op, node, self.mul())
        return node

    def mul(self) -> tuple:
        node = self.unary()
        while self.is_op("*", "/"):
            op = self.take()[1]
            node = ("bin", op, node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.is_op("-", "+", "!"):
            self.enter()
            op = self.take()[1]
            x = self.unary()
            self.depth -= 1
            return x if op == "+" else ("un", op, x)
        return self.power()

    def power(self) -> tuple:
        base = self.primary()
        if self.is_op("^"):
            self.take()
            self.enter()
            exponent = self.unary()  # right-assoc, and 2^-1 allowed
            self.depth -= 1
            return ("bin", "^", base, exponent)
        return base

    def primary(self) -> tuple:
        kind, text, pos = self.take()
        if kind == "num":
            return ("num", float(text))
        if kind == "str":
            return ("str", text[1:-1])
        if kind == "name":
            if self.is_op("("):
                if "." in text:
                    raise ExprError(f"{text!r} at position {pos} is not a function name")
                self.take()
                args: list[tuple] = []
                if not self.is_op(")"):
                    args.append(self.ternary())
                    while self.is_op(","):
                        self.take()
                        args.append(self.ternary())
                self.expect(")")
                return ("call", text.lower(), args)
            return ("var", text)
        if kind == "op" and text == "(":
            node = self.ternary()
            self.expect(")")
            return node
        raise ExprError(f"unexpected {text or 'end of expression'!r} at position {pos}")


def parse(src: str) -> tuple:
    """Parse a score expression; raises ExprError with the position of the problem."""
    if not isinstance(src, str) or not src.strip():
        raise ExprError("the score expression is empty")
    if len(src) > MAX_SOURCE:
        raise ExprError(f"the score expression is longer than {MAX_SOURCE} characters")
    tree = _Parser(src).parse()
    if depth(tree) > MAX_TREE_DEPTH:
        raise ExprError(f"expression nested deeper than {MAX_TREE_DEPTH} operations")
    return tree


def children(node: tuple) -> list[tuple]:
    kind = node[0]
    if kind == "un":
        return [node[2]]
    if kind == "bin":
        return [node[2], node[3]]
    if kind == "tern":
        return [node[1], node[2], node[3]]
    if kind == "call":
        return list(node[2])
    return []


def depth(node: tuple) -> int:
    """Tree depth without recursion (a long ``a + b + c ...`` chain is a left-deep tree)."""
    best, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in children(n))
    return best


def variables(node: tuple) -> list[str]:
    """Variable paths in order of first appearance."""
    out: list[str] = []

    def walk(n: tuple) -> None:
        if n[0] == "var" and n[1] not in out:
            out.append(n[1])
        for c in children(n):
            walk(c)

    walk(node)
    return out
