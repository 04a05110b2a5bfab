"""Shared helpers of the ranking tests: compile one expression and evaluate it with one twin."""

from __future__ import annotations

from array import array

from feedline.ranking import parse_methods


def method(score: str, defaults: dict | None = None, functions: dict | None = None):
    raw: dict = {"score": score, "defaults": defaults or {}}
    if functions:
        raw["functions"] = functions
    return parse_methods("g", {"m": raw})["m"]


def evaluate(twin, m, columns: dict[str, list[float]], *, now: float = 0.0, externals=None, seed: int = 0,
             rowids: bytes | None = None) -> list[float]:
    """Scores of every row: ``columns`` maps each field the method loads to its values."""
    from feedline.ranking.window import externals as ext_values

    p = m.program
    n = len(next(iter(columns.values()))) if columns else 1
    data = array("d")
    for f in p.fields:
        data.extend(columns[f])
    if not p.fields:
        data.append(0.0)
    prog = twin.Program(p.code, p.nregs, p.result)
    scalars = p.scalars(ext_values(m, externals), now)
    return list(prog.evaluate(scalars, memoryview(data), n, list(range(len(p.fields))), 1, n, seed, rowids))


def value(twin, score: str, **variables: float) -> float:
    """One row: the expression's score with the given variable values (each with a default of 0)."""
    m = method(score, {k: 0 for k in variables if k != "time"})
    cols = {f: [variables[f]] for f in m.program.fields}
    return evaluate(twin, m, cols)[0]
