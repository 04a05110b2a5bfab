"""Parametrise a test over both twins of a compiled module (the compiled one must exist when
FEEDLINE_REQUIRE_EXTENSIONS is set; otherwise it is skipped if not built)."""

from __future__ import annotations

import pytest

from feedline import _ext


def twin_params(base: str) -> list:
    found = _ext.twins(base)
    params = [pytest.param(found["py"], id="py")]
    if "c" in found and not _ext.NO_EXTENSIONS:
        params.append(pytest.param(found["c"], id="c"))
    else:
        params.append(pytest.param(None, id="c", marks=pytest.mark.skip(reason="compiled twin not built/disabled")))
    return params
