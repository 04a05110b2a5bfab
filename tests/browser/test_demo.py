"""The demo web app (examples/web: Stream's React UI kit on `getstream`) against `feedline dev` in headless
Chromium: Debian's package (infra/browser/install.sh), driven by puppeteer-core (tests/browser/demo.js).

The demo is started as `make demo` starts it (examples/web/run.py: the stack on SQLite, the seed, the
page), on free ports. The driver checks the seeded timeline with names (two pages: the kit follows
`next`), a comment thread longer than the kit's first 5 (its "Load more" follows
latest_reactions_extra), the bell's unseen count, a like, an unlike and a comment that survive a
reload, the post box, a followed user's post arriving live over the Faye WebSocket and after a
reload, and that opening the bell marks the notifications seen; with no console error and no failed
request, else it names the request (URL, status, body). Screenshots go to artifacts/screenshots/
(FEEDLINE_SCREENSHOTS overrides; CI keeps the folder as an artifact).

Skipped with a message when node, npm or Chromium is missing, except in CI (`CI=true`): a failure there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, stop_process

WEB = ROOT / "examples" / "web"
DRIVER = ROOT / "tests" / "browser"
CHROMES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _missing(what: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} (CI=true: the browser test must run)")
    pytest.skip(what)


def _npm_ci(npm: str, where: Path) -> None:
    """`npm ci` (exactly the lock file), once per lock file; no browser download at install time."""
    lock = where / "package-lock.json"
    stamp = where / "node_modules" / ".feedline-lock"
    if stamp.exists() and stamp.read_text() == lock.read_text():
        return
    env = {**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1", "PUPPETEER_SKIP_CHROMIUM_DOWNLOAD": "1"}
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=where, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"npm ci in {where} failed:\n{proc.stdout}\n{proc.stderr}"
    stamp.write_text(lock.read_text())


@pytest.fixture(scope="module")
def tools() -> dict[str, str]:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        _missing("node/npm not installed: the browser test needs them")
    chrome = os.environ.get("FEEDLINE_CHROME") or next((c for c in CHROMES if os.access(c, os.X_OK)), None)
    if chrome is None:
        _missing("Chromium not installed: run `bash infra/browser/install.sh`")
    _npm_ci(npm, WEB)
    _npm_ci(npm, DRIVER)
    # the bundle is built from the sources every run, as `make demo` does
    build = subprocess.run([node, "build.mjs"], cwd=WEB, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, f"the demo bundle did not build:\n{build.stdout}\n{build.stderr}"
    return {"node": node, "chrome": chrome}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """examples/web/run.py --json: the stack, the seeded world and the page; yields run.py's JSON line."""
    data = tmp_path_factory.mktemp("demo")
    log = open(data / "run.log", "w+")  # written by the process until it stops
    proc = subprocess.Popen([sys.executable, str(WEB / "run.py"), "--json", "--data", str(data)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("{"):
            proc.wait(10)
            log.seek(0)
            raise RuntimeError(f"the demo did not start ({proc.returncode}): {line}\n{log.read()}\n"
                               f"{(data / 'feedline-dev.log').read_text() if (data / 'feedline-dev.log').exists() else ''}")
        world = json.loads(line)
        world["log"] = str(data / "feedline-dev.log")
        yield world
    finally:
        stop_process(proc)
        log.close()


def test_demo_in_chromium(tools, demo):
    shots = Path(os.environ.get("FEEDLINE_SCREENSHOTS") or ROOT / "artifacts" / "screenshots")
    env = {**os.environ, "CHROME": tools["chrome"], "WORLD": json.dumps(demo), "SHOTS": str(shots)}
    start = time.monotonic()
    proc = subprocess.run([tools["node"], "demo.js"], cwd=DRIVER, env=env, capture_output=True, text=True, timeout=180)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    failed = [line for line in lines if line["check"] == "failed"]
    if proc.returncode != 0 or failed:
        # which step failed, and every failed request with its status and body, console errors, page errors
        detail = json.dumps(failed[0], indent=2) if failed else proc.stdout
        server_log = Path(demo["log"]).read_text()[-4000:] if Path(demo["log"]).exists() else ""
        pytest.fail(f"the browser test failed after {time.monotonic() - start:.1f} s:\n{detail}\n"
                    f"stderr:\n{proc.stderr[-4000:]}\nfeedline dev's log (tail):\n{server_log}", pytrace=False)
    checks = {line["check"]: line for line in lines}
    print(json.dumps({k: v for k, v in checks.get("live", {}).items() if k != "screenshot"}))  # pytest -s shows it
    assert list(checks) == ["timeline", "thread", "bell", "like", "unlike", "comment", "post", "live", "notifications", "done"]
    assert checks["timeline"]["names"] == ["Alice Park", "Bob Martins", "Carol Nguyen"]
    assert checks["bell"]["badge"] == str(checks["bell"]["unseen"]) and checks["bell"]["unseen"] > 0
    assert checks["like"]["after"] == "1 like"
    assert checks["notifications"]["groups"] == checks["bell"]["unseen"]
    for check in ("timeline", "like", "comment", "live", "notifications"):
        assert Path(checks[check]["screenshot"]).is_file()
