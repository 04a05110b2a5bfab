"""The one switch between compiled twins and their pure-Python references."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", **env})


def test_require_extensions_turns_a_missing_twin_into_an_import_error():
    # a module base with a pure twin but no compiled one: what a silently failed build looks like
    code = ("import sys, types; sys.modules['feedline.fake_py'] = types.ModuleType('feedline.fake_py');"
            "from feedline import _ext; _ext.load('feedline.fake')")
    assert run(code).returncode == 0  # default: falls back to the pure twin
    failed = run(code, FEEDLINE_REQUIRE_EXTENSIONS="1")
    assert failed.returncode != 0 and "FEEDLINE_REQUIRE_EXTENSIONS" in failed.stderr


def test_no_extensions_forces_python_and_conflicting_switches_fail():
    out = run("from feedline import _ext; from feedline.models import ids; print(_ext.LOADED)",
              FEEDLINE_NO_EXTENSIONS="1")
    assert out.returncode == 0 and "'feedline.models._ids': 'python'" in out.stdout
    both = run("import feedline._ext", FEEDLINE_NO_EXTENSIONS="1", FEEDLINE_REQUIRE_EXTENSIONS="1")
    assert both.returncode != 0


@pytest.mark.skipif(__import__("feedline._ext", fromlist=["x"]).NO_EXTENSIONS, reason="pure leg")
def test_every_pyx_is_built_and_loaded_compiled():
    out = run("from feedline import _ext; import feedline.models.ids, feedline.serialization, "
              "feedline.aggregation.grouping, feedline.aggregation.page, feedline.ranking, feedline.enrichment.refs, "
              "feedline.enrichment.page; print(sorted(_ext.LOADED.items()))",
              FEEDLINE_REQUIRE_EXTENSIONS="1")
    assert out.returncode == 0, out.stderr
    pyx = sorted(p.relative_to(ROOT / "core").with_suffix("").as_posix().replace("/", ".")[:-2]
                 for p in (ROOT / "core" / "feedline").rglob("_*_c.pyx"))
    assert all(f"('{base}', 'compiled')" in out.stdout for base in pyx), (pyx, out.stdout)
