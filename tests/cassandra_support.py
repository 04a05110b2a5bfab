"""Fixtures for tests that need a real Cassandra (mark them ``pytest.mark.cassandra``).

``cassandra_node`` makes sure a node answers CQL on 127.0.0.1:${FEEDLINE_CASSANDRA_PORT:-9042}:
one already running is used as is; otherwise ``infra/cassandra/local.sh start`` starts one, and
the session stops it at the end (only if it started it). When no node can be had, the tests fail
under ``CI=true`` or ``FEEDLINE_REQUIRE_CASSANDRA=1`` and are skipped otherwise.

``cassandra_settings`` migrates a keyspace of its own (``feedline_test_<random>``) for the test
session and drops it at the end, so runs never see each other's data.

``tests/conftest.py`` imports the fixtures, so every test module can use them.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass

import pytest

from feedline.config import AppConfig, Settings
from tests.conftest import API_KEY, API_SECRET, ROOT

LOCAL_SH = ROOT / "infra" / "cassandra" / "local.sh"
HOST = "127.0.0.1"

__all__ = ["CassandraNode", "cassandra_node", "cassandra_settings", "cassandra_truncate", "required",
           "truncate_all"]


def required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("FEEDLINE_REQUIRE_CASSANDRA") == "1"


def _unavailable(reason: str) -> None:
    if required():
        pytest.fail(f"Cassandra is required (CI=true or FEEDLINE_REQUIRE_CASSANDRA=1) but {reason}",
                    pytrace=False)
    pytest.skip(f"no Cassandra: {reason}")


def port() -> int:
    return int(os.environ.get("FEEDLINE_CASSANDRA_PORT", "9042"))


def port_open(p: int) -> bool:
    try:
        with socket.create_connection((HOST, p), timeout=1.0):
            return True
    except OSError:
        return False


def cql_answers(p: int) -> str | None:
    """None if a CQL query succeeds on the port, else why not."""
    from cassandra.cluster import Cluster

    cluster = Cluster([HOST], port=p, connect_timeout=5, control_connection_timeout=5)
    try:
        cluster.connect().execute("SELECT release_version FROM system.local", timeout=5)
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return f"{type(exc).__name__}: {exc}"
    finally:
        cluster.shutdown()


@dataclass
class CassandraNode:
    host: str
    port: int
    started_here: bool


@pytest.fixture(scope="session")
def cassandra_node():
    try:
        import cassandra  # noqa: F401
    except ImportError:
        _unavailable("the cassandra-driver package is not installed (pip install -e '.[test]')")
    # the driver logs every refused connection at WARNING/ERROR: noise, not news, in tests
    logging.getLogger("cassandra").setLevel(logging.CRITICAL)
    p = port()
    started = False
    if not port_open(p):
        env = dict(os.environ, PYTHON=sys.executable)
        proc = subprocess.run(["bash", str(LOCAL_SH), "start"], check=False, cwd=ROOT, env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            _unavailable(f"`infra/cassandra/local.sh start` failed:\n{proc.stderr[-3000:]}")
        started = True
    why = cql_answers(p)
    if why is not None:
        _unavailable(f"127.0.0.1:{p} does not answer CQL ({why})")
    node = CassandraNode(HOST, p, started)
    yield node
    if started:
        subprocess.run(["bash", str(LOCAL_SH), "stop"], check=False, cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="session")
def cassandra_settings(cassandra_node):
    """Settings for a freshly migrated keyspace of this test session (dropped at the end)."""
    from feedline import db

    keyspace = f"feedline_test_{uuid.uuid4().hex[:12]}"
    settings = Settings(app=AppConfig(API_KEY, API_SECRET), storage="cassandra",
                        cassandra_hosts=(cassandra_node.host,), cassandra_port=cassandra_node.port,
                        cassandra_keyspace=keyspace)
    db.migrate(settings)
    yield settings
    _drop_keyspace(cassandra_node, keyspace)


def _drop_keyspace(node: CassandraNode, keyspace: str) -> None:
    from cassandra.cluster import Cluster

    cluster = Cluster([node.host], port=node.port, connect_timeout=5)
    try:
        # test-only DDL; the name is ours (feedline_test_<hex>)
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
    finally:
        cluster.shutdown()


@pytest.fixture(scope="session")
def cassandra_truncate():
    """``truncate(store)``: empty every table of the store's keyspace."""
    return truncate_all


def truncate_all(store) -> None:
    """Empty every table of the store's keyspace (only those holding rows: TRUNCATE is slow-ish)."""
    from feedline.storage.cassandra.statements import TABLES

    session = store.activities.session._connect()
    futures = [(t, session.execute_async(f"SELECT * FROM {t} LIMIT 1")) for t in TABLES]
    full = [t for t, f in futures if f.result().current_rows]
    for f in [session.execute_async(f"TRUNCATE {t}", timeout=60) for t in full]:
        f.result()
