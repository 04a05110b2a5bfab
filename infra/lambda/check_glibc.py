#!/usr/bin/env python3
"""Fail if any shared object of a built Lambda layer needs a newer glibc than the runtime has.

The Lambda ``python3.11`` runtime runs on Amazon Linux 2: glibc 2.26, x86_64. A ``.so`` linked
against a newer glibc imports fine on a developer's machine and dies at cold start in AWS with
``version `GLIBC_2.xx' not found``. This scans every ELF shared object under the given paths (by
magic, so ``libfoo.so.1.2`` in ``*.libs/`` counts too) and prints, per file, the highest
``GLIBC_x.y`` version it requires.

Versions come from ``objdump -T`` (binutils: the undefined dynamic symbols and the version each
needs, so an offender is named by symbol), or, without objdump, from the ELF ``.gnu.version_r``
section read with pyelftools.

Usage: check_glibc.py [--max 2.26] [--allow-empty] [--quiet] PATH [PATH ...]
Exit status: 0 all within the limit; 1 some file needs more; 2 no shared object found (a layer with
the compiled twins must have some) or no way to read ELF files.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
GLIBC_RE = re.compile(r"\bGLIBC_(\d+(?:\.\d+)+)\b")
# objdump -T line of an undefined dynamic symbol, e.g.
#   0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.14) memcpy
#   0000000000000000      DF *UND*  0000000000000000  GLIBC_2.2.5 free      (binutils >= 2.35)
UND_RE = re.compile(r"\*UND\*\s+\S+\s+\(?(GLIBC_\d+(?:\.\d+)+)\)?\s+(\S+)")


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def fmt(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


@dataclass
class Report:
    path: Path
    #: required GLIBC version -> symbols needing it (empty set when the reader cannot tell)
    needs: dict[tuple[int, ...], set[str]] = field(default_factory=dict)

    @property
    def max(self) -> tuple[int, ...] | None:
        return max(self.needs) if self.needs else None


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == ELF_MAGIC
    except OSError:
        return False


def shared_objects(roots: list[Path]) -> list[tuple[Path, str]]:
    """``(path, shown name)`` of every ELF shared object under ``roots``, names relative to their root."""
    found = []
    for root in roots:
        if root.is_file():
            candidates = [root]
        else:
            candidates = [Path(d) / f for d, _, files in os.walk(root) for f in files]
        for p in candidates:
            name = p.name
            if (name.endswith(".so") or ".so." in name) and not p.is_symlink() and is_elf(p):
                found.append((p, str(p) if root.is_file() else os.path.relpath(p, root)))
    return sorted(found)


def parse_objdump(text: str) -> dict[tuple[int, ...], set[str]]:
    """Versions (and the symbols needing them) from ``objdump -T`` output."""
    needs: dict[tuple[int, ...], set[str]] = {}
    for line in text.splitlines():
        m = UND_RE.search(line)
        if m:
            needs.setdefault(parse_version(m.group(1)[len("GLIBC_"):]), set()).add(m.group(2))
    return needs


def read_objdump(path: Path, objdump: str) -> dict[tuple[int, ...], set[str]]:
    out = subprocess.run([objdump, "-T", str(path)], capture_output=True, text=True, check=True).stdout
    return parse_objdump(out)


def read_pyelftools(path: Path) -> dict[tuple[int, ...], set[str]]:
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerNeedSection

    needs: dict[tuple[int, ...], set[str]] = {}
    with path.open("rb") as fh:
        elf = ELFFile(fh)
        for section in elf.iter_sections():
            if isinstance(section, GNUVerNeedSection):
                for _verneed, auxiliaries in section.iter_versions():
                    for aux in auxiliaries:
                        m = GLIBC_RE.fullmatch(aux.name)
                        if m:
                            needs.setdefault(parse_version(m.group(1)), set())
    return needs


def pick_reader():
    objdump = os.environ.get("OBJDUMP") or shutil.which("objdump")
    if objdump:
        return "objdump", lambda p: read_objdump(p, objdump)
    try:
        import elftools  # noqa: F401
    except ImportError:
        return None, None
    return "pyelftools", read_pyelftools


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path, help="layer directories (or single files) to scan")
    ap.add_argument("--max", default="2.26", help="highest GLIBC version allowed (default: 2.26, Amazon Linux 2)")
    ap.add_argument("--allow-empty", action="store_true", help="exit 0 when no shared object is found")
    ap.add_argument("--quiet", "-q", action="store_true", help="print only offenders and the summary")
    args = ap.parse_args(argv)
    limit = parse_version(args.max)

    for p in args.paths:
        if not p.exists():
            print(f"check_glibc: {p} does not exist", file=sys.stderr)
            return 2
    reader_name, reader = pick_reader()
    if reader is None:
        print("check_glibc: need objdump (binutils) or pyelftools to read ELF files", file=sys.stderr)
        return 2
    files = shared_objects(args.paths)
    if not files:
        print(f"check_glibc: no shared objects under {', '.join(map(str, args.paths))}",
              file=sys.stderr)
        return 0 if args.allow_empty else 2

    bad = 0
    overall: tuple[int, ...] = ()
    for path, shown in files:
        report = Report(path, reader(path))
        top = report.max
        if top is None:
            if not args.quiet:
                print(f"ok   {shown}: no GLIBC-versioned symbols")
            continue
        overall = max(overall, top)
        if top > limit:
            bad += 1
            offenders = sorted(
                f"{sym}@GLIBC_{fmt(v)}" for v, syms in report.needs.items() if v > limit for sym in syms
            ) or [f"GLIBC_{fmt(v)}" for v in sorted(report.needs) if v > limit]
            print(f"FAIL {shown}: needs GLIBC_{fmt(top)} > {args.max} ({', '.join(offenders)})")
        elif not args.quiet:
            print(f"ok   {shown}: max GLIBC_{fmt(top)}")
    summary = (f"check_glibc ({reader_name}): {len(files)} shared objects, max GLIBC_{fmt(overall) or '-'}, "
               f"limit {args.max}: {'FAILED, ' + str(bad) + ' too new' if bad else 'ok'}")
    print(summary)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
