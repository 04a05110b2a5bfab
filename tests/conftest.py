"""Shared fixtures: credentials, a running `feedline dev` per storage backend, stream clients."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "test-key"
API_SECRET = "test-secret-0123456789-0123456789-abcdef"

#: the test app: Stream's default groups plus groups with custom aggregation options
FEED_GROUPS = {
    "user": {"type": "flat", "public_read": True},
    "flat": {"type": "flat"},
    "topic": {"type": "flat", "public_read": True},
    "timeline": {"type": "flat"},
    "aggregated": {"type": "aggregated"},
    "notification": {"type": "notification", "others_can_target": True},
    "byactor": {"type": "aggregated",
                "aggregation_format": '{% if verb == "follow" %}follow_{{ actor }}{% else %}{{ verb }}{% endif %}'},
    "capped": {"type": "notification", "max_group_activities": 3, "aggregation_format": "{{ verb }}"},
    # a format that names the feed: rendered per follower in a fan-out (the others once per activity)
    "perfeed": {"type": "aggregated", "aggregation_format": "{{ verb }}@{{ feed.group }}:{{ feed.user_id }}"},
    # ranked reads (docs/ranking.md): tests/e2e/test_ranked_feeds.py recomputes these expressions
    "ranked": {"type": "flat", "ranking": {
        "popular": {"score": "fresh(time) * (1 + ln(1 + popularity)) + 0.1 * likes + external.boost * promoted",
                    "defaults": {"popularity": 0, "likes": 0, "promoted": 0, "external": {"boost": 1}},
                    "functions": {"fresh": {"base": "decay_gauss", "scale": "1d", "offset": "1h", "decay": "0.5"}}},
        "weekly": {"score": "week(time) * 10 + (meta.score >= 5 ? meta.score : -1)",
                   "defaults": {"meta": {"score": 0}},
                   "functions": {"week": {"base": "decay_linear", "scale": "7d", "decay": "0.5"}}},
        "likes": {"score": "likes", "defaults": {"likes": 0}},
        "shuffle": {"score": "rand()"},
    }},
    "ranked5": {"type": "flat", "rank_window": 5, "ranking": {"likes": {"score": "likes", "defaults": {"likes": 0}}}},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout}s")


def stop_process(proc: subprocess.Popen) -> None:
    """TERM, then KILL if it has not gone within 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


class DevServer:
    """`feedline dev` in a subprocess, exactly as `make run` starts it."""

    def __init__(self, tmp: Path, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        self.faye_port = free_port()
        config = tmp / "feedline.json"
        config.write_text(json.dumps({"feed_groups": FEED_GROUPS}))
        env = dict(os.environ)
        env.update({
            "FEEDLINE_API_KEY": API_KEY,
            "FEEDLINE_API_SECRET": API_SECRET,
            "FEEDLINE_CONFIG": str(config),
            "FEEDLINE_SQLITE_PATH": str(tmp / "feedline.db"),
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        })
        env.update(extra_env or {})
        self.env = env  # tests open the server's stores with Settings.from_env(server.env)
        self.log = open(tmp / "server.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feedline.cli", "dev", "--port", str(self.port), "--faye-port", str(self.faye_port)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        try:
            wait_port(self.port, self.proc)
        except Exception:
            self.stop()
            self.log.seek(0)
            raise RuntimeError(self.log.read()) from None
        self.base_url = f"http://localhost:{self.port}"
        self.faye_url = f"http://localhost:{self.faye_port}/faye/"

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


#: the end-to-end suite runs once per backend (FEEDLINE_TEST_BACKENDS narrows it, e.g. "sqlite")
BACKENDS = [b.strip() for b in os.environ.get("FEEDLINE_TEST_BACKENDS", "sqlite,cassandra").split(",") if b.strip()]


@pytest.fixture(scope="session", params=[
    pytest.param(b, marks=[pytest.mark.cassandra] if b == "cassandra" else []) for b in BACKENDS])
def dev_server(request, tmp_path_factory):
    extra: dict[str, str] = {}
    if request.param == "cassandra":
        from feedline import db

        node = request.getfixturevalue("cassandra_node")
        keyspace = f"feedline_e2e_{uuid.uuid4().hex[:10]}"
        base = request.getfixturevalue("cassandra_settings")
        db.migrate(base.with_(cassandra_keyspace=keyspace))
        extra = {"FEEDLINE_STORAGE": "cassandra", "FEEDLINE_CASSANDRA_HOSTS": node.host,
                 "FEEDLINE_CASSANDRA_PORT": str(node.port), "FEEDLINE_CASSANDRA_KEYSPACE": keyspace}
    server = DevServer(tmp_path_factory.mktemp(f"dev-{request.param}"), extra)
    server.backend = request.param
    yield server
    server.stop()
    if request.param == "cassandra":
        from tests.cassandra_support import _drop_keyspace

        _drop_keyspace(node, keyspace)


@pytest.fixture(scope="session")
def client(dev_server):
    import stream

    return stream.connect(API_KEY, API_SECRET, base_url=dev_server.base_url, timeout=20)


@pytest.fixture
def uid() -> str:
    """A fresh user id per test, so tests never see each other's feeds."""
    return uuid.uuid4().hex[:12]


# Cassandra fixtures (imported last: tests.cassandra_support imports names defined above)
from tests.cassandra_support import cassandra_node, cassandra_settings, cassandra_truncate  # noqa: E402,F401
from tests.sqs_support import moto  # noqa: E402,F401
