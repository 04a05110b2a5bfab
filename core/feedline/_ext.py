"""The one switch between compiled twins and their pure-Python references.

Every compiled module ``feedline.x._name_c`` has a twin ``feedline.x._name_py`` with identical
output. ``load("feedline.x._name")`` returns the compiled one when it is importable.

- ``FEEDLINE_NO_EXTENSIONS=1`` forces the pure-Python twins (the CI leg that checks them).
- ``FEEDLINE_REQUIRE_EXTENSIONS=1`` turns a missing compiled twin into an ImportError, so a build
  that silently fell back to Python fails loudly instead of shipping the slow path.

This is the only place that reads these variables; it does so at import because the choice has to be
made before the twins are bound (it is a build switch, not runtime configuration).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

NO_EXTENSIONS = bool(os.environ.get("FEEDLINE_NO_EXTENSIONS"))
REQUIRE_EXTENSIONS = bool(os.environ.get("FEEDLINE_REQUIRE_EXTENSIONS"))

if NO_EXTENSIONS and REQUIRE_EXTENSIONS:
    raise ImportError("FEEDLINE_NO_EXTENSIONS and FEEDLINE_REQUIRE_EXTENSIONS are both set")

#: names of the twins that were loaded compiled, for diagnostics (`feedline info`).
LOADED: dict[str, str] = {}


def load(base: str) -> ModuleType:
    """Import the compiled twin of ``base`` or its pure-Python reference."""
    if not NO_EXTENSIONS:
        try:
            mod = importlib.import_module(base + "_c")
            LOADED[base] = "compiled"
            return mod
        except ImportError as exc:
            if REQUIRE_EXTENSIONS:
                raise ImportError(
                    f"{base}_c is not built and FEEDLINE_REQUIRE_EXTENSIONS is set: {exc}"
                ) from exc
    LOADED[base] = "python"
    return importlib.import_module(base + "_py")


def twins(base: str) -> dict[str, ModuleType]:
    """Both twins that can be imported (for tests and benchmarks), keyed ``py`` / ``c``."""
    out = {"py": importlib.import_module(base + "_py")}
    try:
        out["c"] = importlib.import_module(base + "_c")
    except ImportError:
        if REQUIRE_EXTENSIONS:
            raise
    return out
