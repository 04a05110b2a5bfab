"""api.params: query values parsed leniently, validated strictly (issue 15)."""

from __future__ import annotations

import math

import pytest

from feedline.api import params
from feedline.errors import InputException
from feedline.follows.service import copy_limit


def test_slugs_are_deduplicated_and_validated():
    assert params.slugs({"s": "user, timeline,user"}, "s") == ["user", "timeline"]
    assert params.slugs({}, "s") == []
    for bad in ("us%er", "user:1", "a b", "ti\nmeline,x"):
        with pytest.raises(InputException) as err:
            params.slugs({"s": bad}, "s")
        assert "s" in err.value.fields


def test_slugs_are_bounded():
    ok = ",".join(f"g{i}" for i in range(params.MAX_SLUGS))
    assert len(params.slugs({"s": ok}, "s")) == params.MAX_SLUGS
    with pytest.raises(InputException):
        params.slugs({"s": ",".join(f"g{i}" for i in range(1000))}, "s")
    # repeats count once: 1,000 copies of one slug is one slug
    assert params.slugs({"s": ",".join(["user"] * 1000)}, "s") == ["user"]


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "1e999", 1001, -1, True, [3]])
def test_copy_limit_refuses_what_is_not_a_small_integer(value):
    with pytest.raises(InputException) as err:
        copy_limit(value)
    assert "activity_copy_limit" in err.value.fields
