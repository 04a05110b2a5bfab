"""Build the compiled twins of the core.

`pip install .` cythonizes every ``_*_c.pyx`` under core/feedline by itself: there is no separate
.pyx -> .c step. ``FEEDLINE_NO_EXTENSIONS=1`` at build time produces a pure-Python install (the
runtime then uses the ``_*_py`` twins); any other build failure is an error, so a broken compiler
cannot silently ship the slow path.
"""

import os
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent
PYX = sorted(p.relative_to(HERE).as_posix() for p in (HERE / "core" / "feedline").rglob("_*_c.pyx"))


def extensions():
    if os.environ.get("FEEDLINE_NO_EXTENSIONS"):
        return []
    from Cython.Build import cythonize
    from setuptools import Extension

    mods = []
    for path in PYX:
        name = path[len("core/"):-len(".pyx")].replace("/", ".")
        mods.append(Extension(name, [path], extra_compile_args=["-O2"]))
    return cythonize(
        mods,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    )


setup(ext_modules=extensions())
