"""Compile a parsed score expression into a column program (see ``ops`` for the instruction format).

Done once per method at start-up. Constant sub-expressions are folded with the reference scalar
functions (so both twins see the same folded double); everything else becomes one instruction, i.e.
one typed loop over all rows at read time. Registers are reused as soon as a value is consumed, so a
program needs few columns of scratch memory whatever the expression's size.
"""

from __future__ import annotations

import math
import struct
from array import array
from dataclasses import dataclass, field

from feedline.ranking import ops
from feedline.ranking.expr import ExprError

#: Parameters of a decay: base kind, scale, offset, decay, origin (None: request time when the
#: argument reads ``time``, else 0).
DECAY_KINDS = {"decay_linear": ops.DECAY_LINEAR, "decay_exp": ops.DECAY_EXP, "decay_gauss": ops.DECAY_GAUSS}


@dataclass(frozen=True, slots=True)
class Decay:
    kind: int
    scale: float
    offset: float
    decay: float
    origin: float | None = None

    def shape(self) -> float:
        if self.kind == ops.DECAY_GAUSS:
            return math.log(self.decay) / (self.scale * self.scale)
        if self.kind == ops.DECAY_EXP:
            return math.log(self.decay) / self.scale
        return self.scale / (1.0 - self.decay)


#: a bare ``decay_*(x)`` call: scale one day, no offset, halved at one scale (docs/ranking.md)
DEFAULT_DECAYS = {name: Decay(kind, 86_400.0, 0.0, 0.5) for name, kind in DECAY_KINDS.items()}

UNARY_FUNCS = {"ln": ops.LN, "log": ops.LOG10, "sin": ops.SIN, "cos": ops.COS, "tan": ops.TAN,
               "abs": ops.ABS, "trunc": ops.TRUNC, "round": ops.ROUND}
BUILTINS = frozenset({*UNARY_FUNCS, "min", "max", "rand", "rand_normal", "to_unix_timestamp", "dist",
                      *DECAY_KINDS})
_BIN = {"+": ops.ADD, "-": ops.SUB, "*": ops.MUL, "/": ops.DIV, "^": ops.POW, "==": ops.EQ,
        "!=": ops.NE, "<": ops.LT, "<=": ops.LE, ">": ops.GT, ">=": ops.GE, "&&": ops.AND, "||": ops.OR}
_UN = {"-": ops.NEG, "!": ops.NOT}
TIME = "time"
#: placeholder scalar slots while compiling (externals and the request time follow the constants)
_EXT_BASE, _NOW = 1 << 20, 1 << 21
EXTERNAL = "external."


@dataclass(slots=True)
class Program:
    """A compiled score: instructions plus what a request must supply."""

    code: array
    nregs: int
    result: int
    consts: list[float]
    #: field paths read from the window, in column order of the program's ``LOAD`` (``aux``)
    fields: tuple[str, ...]
    #: external paths and their scalar slots (slots after the constants)
    externals: tuple[str, ...]
    now_slot: int
    uses_rand: bool
    _base: array = field(init=False, repr=False)

    def scalars(self, externals: list[float], now: float) -> array:
        """The request's scalar slots: constants, then ranking vars, then the request time."""
        out = self._base[:]  # a copy of a prebuilt array: cheaper than building one from a list
        if externals:
            out.extend(externals)
        if self.now_slot >= 0:
            out.append(now)
        return out

    def __post_init__(self) -> None:
        self._base = array("d", self.consts)


@dataclass(slots=True)
class _Compiler:
    defaults: dict[str, float]
    functions: dict[str, Decay]
    code: list[int] = field(default_factory=list)
    consts: list[float] = field(default_factory=list)
    const_slot: dict[bytes, int] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)
    field_reg: dict[str, int] = field(default_factory=dict)
    externals: list[str] = field(default_factory=list)
    free: list[int] = field(default_factory=list)
    nregs: int = 0
    sites: int = 0
    uses_now: bool = False

    # operands while compiling: ("k", value) constant | ("r", reg) | ("x", external index) | ("now",)
    def const(self, v: float) -> int:
        bits = struct.pack("<d", v)
        slot = self.const_slot.get(bits)
        if slot is None:
            slot = self.const_slot[bits] = len(self.consts)
            self.consts.append(v)
        return ops.scalar(slot)

    def alloc(self) -> int:
        if self.free:
            return self.free.pop()
        self.nregs += 1
        return self.nregs - 1

    def release(self, *operands: tuple) -> None:
        for o in operands:
            if o[0] == "r" and o[1] not in self.field_reg.values() and o[1] not in self.free:
                self.free.append(o[1])

    def emit(self, op: int, args: list[tuple], aux: int = 0) -> tuple:
        enc = [self.encode(a) for a in args]
        self.release(*args)
        dst = self.alloc()
        enc += [ops.NONE] * (5 - len(enc))
        self.code += [op, dst, *enc, aux]
        return ("r", dst)

    def encode(self, o: tuple) -> int:
        kind = o[0]
        if kind == "k":
            return self.const(o[1])
        if kind == "r":
            return ops.reg(o[1])
        if kind == "x":
            return ops.scalar(_EXT_BASE + o[1])  # remapped past the constants in finish()
        return ops.scalar(_NOW)  # remapped in finish()

    def var(self, path: str) -> tuple:
        if path.startswith(EXTERNAL):
            name = path[len(EXTERNAL):]
            if path not in self.defaults:
                raise ExprError(f"reads {path} but defaults.external has no {name!r}")
            if name not in self.externals:
                self.externals.append(name)
            return ("x", self.externals.index(name))
        reg = self.field_reg.get(path)
        if reg is None:
            if path != TIME and path not in self.defaults:
                raise ExprError(f"reads the field {path!r} but defaults has no value for it")
            default = math.nan if path == TIME else self.defaults[path]
            j = len(self.fields)
            self.fields.append(path)
            enc_default = self.const(default)
            reg = self.field_reg[path] = self.alloc()
            self.code += [ops.LOAD, reg, enc_default, ops.NONE, ops.NONE, ops.NONE, ops.NONE, j]
        return ("r", reg)

    def node(self, n: tuple) -> tuple:
        kind = n[0]
        if kind == "num":
            return ("k", n[1])
        if kind == "var":
            return self.var(n[1])
        if kind == "str":
            raise ExprError(f"a string ({n[1]!r}) can only be the unit of dist() or the argument of to_unix_timestamp()")
        if kind == "un":
            return self.apply(_UN[n[1]], [self.node(n[2])])
        if kind == "bin":
            return self.apply(_BIN[n[1]], [self.node(n[2]), self.node(n[3])])
        if kind == "tern":
            return self.apply(ops.TERN, [self.node(n[1]), self.node(n[2]), self.node(n[3])])
        return self.call(n[1], n[2])

    def apply(self, op: int, args: list[tuple]) -> tuple:
        if all(a[0] == "k" for a in args):
            vals = [a[1] for a in args]
            if op in ops.UNARY:
                return ("k", ops.UNARY_FN[op](vals[0]))
            if op in ops.BINARY:
                return ("k", ops.BINARY_FN[op](vals[0], vals[1]))
            if op == ops.TERN:
                return ("k", vals[1] if ops.truth(vals[0]) else vals[2])
        return self.emit(op, args)

    def call(self, name: str, args: list[tuple]) -> tuple:  # noqa: C901 - one branch per function
        def arity(*allowed: int) -> None:
            if len(args) not in allowed:
                raise ExprError(f"{name}() takes {' or '.join(map(str, allowed))} arguments, got {len(args)}")

        if name in self.functions:
            arity(1)
            return self.decay(self.functions[name], args[0])
        if name in UNARY_FUNCS:
            arity(1)
            return self.apply(UNARY_FUNCS[name], [self.node(args[0])])
        if name in ("min", "max"):
            if len(args) < 2:
                raise ExprError(f"{name}() takes at least 2 arguments, got {len(args)}")
            op = ops.MIN if name == "min" else ops.MAX
            acc = self.node(args[0])
            for a in args[1:]:
                acc = self.apply(op, [acc, self.node(a)])
            return acc
        if name == "to_unix_timestamp":
            arity(1)
            if args[0][0] == "str":
                from feedline.models.ids import parse_time

                try:
                    return ("k", parse_time(args[0][1]) / 1e6)
                except ValueError:
                    raise ExprError(f"to_unix_timestamp(): {args[0][1]!r} is not an ISO-8601 time") from None
            return self.node(args[0])  # time is already unix seconds
        if name == "rand":
            arity(0, 2)
            self.sites += 1
            if not args:
                return self.emit(ops.RAND0, [], self.sites)
            return self.emit(ops.RAND2, [self.node(a) for a in args], self.sites)
        if name == "rand_normal":
            arity(0, 4)
            self.sites += 1
            if not args:
                return self.emit(ops.RANDN0, [], self.sites)
            return self.emit(ops.RANDN4, [self.node(a) for a in args], self.sites)
        if name == "dist":
            arity(4, 5)
            radius = ops.EARTH["km"]
            if len(args) == 5:
                unit = args[4]
                text = unit[1] if unit[0] in ("str", "var") else None
                if text is None or text.lower() not in ops.EARTH:
                    raise ExprError("dist(): the unit must be km, M (miles) or N (nautical miles)")
                radius = ops.EARTH[text.lower()]
            vals = [self.node(a) for a in args[:4]] + [("k", radius)]
            if all(v[0] == "k" for v in vals):
                return ("k", ops.dist(*(v[1] for v in vals)))
            return self.emit(ops.DIST, vals)
        raise ExprError(f"unknown function {name}()")

    def decay(self, spec: Decay, arg: tuple) -> tuple:
        x = self.node(arg)
        if spec.origin is not None:
            origin: tuple = ("k", spec.origin)
        elif TIME in _vars(arg):
            origin = ("now",)
            self.uses_now = True
        else:
            origin = ("k", 0.0)
        args = [x, origin, ("k", spec.offset), ("k", spec.shape())]
        if x[0] == "k" and origin[0] == "k":
            return ("k", ops.decay(spec.kind, x[1], origin[1], spec.offset, spec.shape()))
        return self.emit(spec.kind, args)

    def finish(self, result: tuple) -> Program:
        if result[0] != "r" or result[1] in self.field_reg.values():
            result = self.emit(ops.MOV, [result])  # the score column is a register of its own
        nconst = len(self.consts)
        now_slot = nconst + len(self.externals) if self.uses_now else -1
        code = array("q", self.code)
        for i in range(0, len(code), ops.WIDTH):
            for j in range(2, 7):
                v = code[i + j]
                if v == ops.NONE or v >= 0:
                    continue
                slot = -1 - v
                if slot >= _NOW:
                    code[i + j] = ops.scalar(now_slot)
                elif slot >= _EXT_BASE:
                    code[i + j] = ops.scalar(nconst + slot - _EXT_BASE)
        return Program(code, self.nregs, result[1], list(self.consts), tuple(self.fields),
                       tuple(self.externals), now_slot, self.sites > 0)


def _vars(node: tuple) -> list[str]:
    from feedline.ranking.expr import variables

    return variables(node)


def compile_expr(tree: tuple, defaults: dict[str, float], functions: dict[str, Decay]) -> Program:
    """Compile a parsed expression; ``functions`` are the tuned decays (lowercased names), merged
    over the bare-decay defaults. Raises ExprError for unknown functions or wrong arities."""
    c = _Compiler(defaults, {**DEFAULT_DECAYS, **functions})
    return c.finish(c.node(tree))
