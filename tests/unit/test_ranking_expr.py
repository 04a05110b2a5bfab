"""The expression language: precedence, associativity, literals, syntax errors (both twins).

Each expression is checked twice: with literals (folded at compile time) and with the same numbers
as variables (evaluated column by column), against Python's own arithmetic written out by hand.
"""

from __future__ import annotations

import math
import re

import pytest

from feedline.ranking import RankingConfigError
from feedline.ranking.expr import ExprError, parse

from .ranking_helpers import method, value
from .twins import twin_params

TWINS = twin_params("feedline.ranking._rank")

CASES = [
    # (expression over a=2, b=3, c=4, expected)
    ("a + b * c", 2 + 3 * 4),
    ("(a + b) * c", (2 + 3) * 4),
    ("c - b - a", (4 - 3) - 2),
    ("c / a / a", (4 / 2) / 2),
    ("a ^ b ^ a", 2 ** (3 ** 2)),  # right-associative
    ("-a ^ a", -(2 ** 2)),  # ^ binds tighter than unary minus
    ("a ^ -a", 2 ** -2),
    ("-a * b", -6),
    ("- - a", 2),
    ("+a", 2),
    ("a * b ^ a", 2 * 3 ** 2),
    ("c - a * b + a", 4 - 6 + 2),
    ("a < b == 1", 1.0),  # (a < b) == 1
    ("a < b && b < c", 1.0),
    ("a > b || b > c", 0.0),
    ("0 || 1 && 0", 0.0),  # && before ||
    ("1 || 0 && 0", 1.0),
    ("!0 + a", 3.0),  # unary before +
    ("!(a - a)", 1.0),
    ("!a", 0.0),
    ("a > b ? 10 : 20", 20.0),
    ("a < b ? 10 : 20", 10.0),
    ("0 ? 1 : 0 ? 2 : 3", 3.0),  # right-associative ternary
    ("1 ? 0 ? 5 : 6 : 7", 6.0),
    ("a + b > c ? a * 10 : b", 20.0),
    ("a == 2", 1.0),
    ("a != 2", 0.0),
    ("a <= 2", 1.0),
    ("a >= 2.5", 0.0),
    ("1.5e1 + .5", 15.5),
    ("2E-1 * 10", 2.0),
    ("max(a, b, c) - min(c, b, a)", 2.0),
]


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("expr,expected", CASES)
def test_precedence_with_variables(twin, expr, expected):
    assert value(twin, expr, a=2.0, b=3.0, c=4.0) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("expr,expected", CASES)
def test_precedence_with_literals(twin, expr, expected):
    literal = re.sub(r"\b[abc]\b", lambda m: {"a": "2", "b": "3", "c": "4"}[m.group()], expr)
    assert value(twin, literal) == pytest.approx(expected, rel=1e-15)


def test_ast_shapes():
    assert parse("-2^2") == ("un", "-", ("bin", "^", ("num", 2.0), ("num", 2.0)))
    assert parse("a.b.c + external.x") == ("bin", "+", ("var", "a.b.c"), ("var", "external.x"))
    assert parse("LN(x)") == ("call", "ln", [("var", "x")])


@pytest.mark.parametrize("src", ["", "   ", "1 +", "(1", "1)", "1 2", "ln(", "ln(1,", "a..b", "1 $ 2", "a ? b",
                                 "a ? b :", "* 2", "2 ** 3", "x.ln(1)", "'unterminated", "1 = 2", "a & b"])
def test_syntax_errors(src):
    with pytest.raises(ExprError):
        parse(src)


def test_syntax_error_in_config_names_group_and_method():
    with pytest.raises(RankingConfigError, match=r"feed group 'g': ranking method 'm': .*position"):
        method("1 + * 2")


def test_deep_nesting_is_a_config_error_not_a_crash():
    with pytest.raises(RankingConfigError):
        method("(" * 500 + "1" + ")" * 500)
    with pytest.raises(RankingConfigError):
        method(" + ".join(["x"] * 1000), {"x": 1})
    with pytest.raises(RankingConfigError):
        method("-" * 300 + "1")


@pytest.mark.parametrize("twin", TWINS)
def test_function_names_are_case_insensitive(twin):
    assert value(twin, "LN(x) + Abs(-1)", x=math.e) == pytest.approx(2.0)


@pytest.mark.parametrize("twin", TWINS)
def test_constant_expression_scores_every_row(twin):
    from .ranking_helpers import evaluate

    m = method("1 + 2", {"x": 0})
    assert m.fields == () and m.program.fields == ()
    assert evaluate(twin, m, {}) == [3.0]
    m = method("x * 0 + 7", {"x": 0})
    assert evaluate(twin, m, {"x": [1.0, 2.0, 3.0]}) == [7.0, 7.0, 7.0]
