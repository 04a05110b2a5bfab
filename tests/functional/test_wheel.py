"""The package as users get it: a wheel installed into a fresh venv, outside the source checkout.

``feedline db migrate`` must work from there (the migrations are package data) and without API
credentials, on SQLite and on Cassandra; the compiled twins' switch must find its pure twins.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv (in a temp folder) with the wheel built from this checkout and its extras."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "FEEDLINE_NO_EXTENSIONS": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    # a pure-Python wheel: the compiled build is covered by every other test; this one is about packaging
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp / "dist"), str(ROOT)], check=True, env=env, timeout=600)
    [wheel] = (tmp / "dist").glob("feedline-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=120)
    pip = tmp / "venv" / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", f"{wheel}[cassandra]"], check=True, env=env, timeout=600)
    return tmp


def run(installed: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    exe = installed / "venv" / "bin" / "feedline"
    # cwd and environment away from the checkout: nothing may come from the source tree
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(installed), **env}
    return subprocess.run([str(exe), *args], cwd=installed, env=clean, capture_output=True, text=True, timeout=120)


def test_db_migrate_sqlite_from_the_wheel_without_credentials(installed):
    db = installed / "data" / "fresh.db"
    env = {"FEEDLINE_SQLITE_PATH": str(db)}
    first = run(installed, "db", "migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["applied"] >= 1 and db.exists()
    again = run(installed, "db", "migrate", env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["applied"] == 0


@pytest.mark.cassandra
def test_db_migrate_cassandra_from_the_wheel(installed, cassandra_node):
    keyspace = f"feedline_wheel_{uuid.uuid4().hex[:10]}"
    env = {"FEEDLINE_CASSANDRA_HOSTS": cassandra_node.host, "FEEDLINE_CASSANDRA_PORT": str(cassandra_node.port)}
    try:
        out = run(installed, "db", "migrate", "--storage", "cassandra", "--keyspace", keyspace, env=env)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["applied"], out.stdout
        # data steps (NNNN_name.py) are package data too: the checksum recorded from the wheel
        # covers 0004's data step exactly as the source tree's does
        from cassandra.cluster import Cluster

        from feedline import db

        want = {m.version: m.checksum for m in db.load_migrations()}
        cluster = Cluster([cassandra_node.host], port=cassandra_node.port)
        try:
            got = dict(cluster.connect().execute(f"SELECT version, checksum FROM {keyspace}.schema_migrations"))
        finally:
            cluster.shutdown()
        assert got == want
    finally:
        from tests.cassandra_support import _drop_keyspace

        _drop_keyspace(cassandra_node, keyspace)
