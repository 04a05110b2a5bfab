"""stream-js's ``feed.subscribe()`` against ``feedline dev``: the `getstream` npm package and its Faye
client in Node (no browser), installed from tests/realtime_js/package-lock.json.

Skipped with a message when npm is missing, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import API_KEY, API_SECRET, ROOT

JS = ROOT / "tests" / "realtime_js"
pytestmark = pytest.mark.e2e  # not `slow`: `make check` runs it too (about 15 s)


@pytest.fixture(scope="session")
def node_modules():
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("node and npm are needed for the stream-js realtime test (CI=true)")
        pytest.skip("node/npm not installed: the stream-js realtime test needs them")
    lock = JS / "package-lock.json"
    stamp = JS / "node_modules" / ".feedline-lock"
    if not stamp.exists() or stamp.read_text() != lock.read_text():
        # exactly the locked versions (npm ci), once per lock file
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, capture_output=True, timeout=600)
        stamp.write_text(lock.read_text())
    return node


@pytest.mark.parametrize("transport,port", [("websocket", "faye"), ("long-polling", "faye"), ("websocket", "api")],
                         ids=["websocket-9999", "long-polling-9999", "websocket-api-port"])
def test_stream_js_subscribe_receives_adds_and_removals(dev_server, node_modules, uid, transport, port):
    # "faye": the LOCAL_FAYE port (9999 by default; a free port here), "api": /faye on the API port
    faye_url = dev_server.faye_url if port == "faye" else f"{dev_server.base_url}/faye"
    env = {**os.environ, "API_URL": dev_server.base_url, "FAYE_URL": faye_url, "API_KEY": API_KEY,
           "API_SECRET": API_SECRET, "APP_ID": "local", "UID": uid, "TRANSPORT": transport}
    proc = subprocess.run([node_modules, "subscribe.js"], cwd=JS, env=env, capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert {line["type"] for line in lines if line["check"] == "transport"} == {transport}
    checks = {line["check"]: line for line in lines if line["check"] != "transport"}
    assert list(checks) == ["subscribed", "new", "deleted", "refused", "fanout_new", "fanout_deleted", "done"]
    assert checks["new"]["latency_ms"] < 1000 and checks["fanout_new"]["latency_ms"] < 1000
    assert checks["refused"]["code"] == 403
    assert checks["deleted"]["deleted_foreign_ids"][0][0] == f"post:{uid}"
    assert checks["fanout_new"]["origin"] == f"user:bob{uid}" and checks["fanout_new"]["feed"] == f"timeline:alice{uid}"
