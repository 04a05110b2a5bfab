"""Identifiers are validated as whole strings (``re.fullmatch``): ``$`` matches before a trailing
newline, so ``re.match(r"^x$", "x\\n")`` passes (issue 15)."""

from __future__ import annotations

import pytest

from feedline import db
from feedline.config import AppConfig, Settings
from feedline.local import template
from tests.conftest import ROOT


@pytest.mark.parametrize("replication", [
    {"class": "SimpleStrategy\n", "replication_factor": 1},
    {"class": "NetworkTopologyStrategy", "dc1\n": 3},
])
def test_replication_names_are_whole_matches(replication):
    with pytest.raises(db.MigrationError):
        db.replication_cql(replication)


def test_keyspace_name_is_a_whole_match():
    """Refused before anything connects (nothing listens on port 1)."""
    settings = Settings(app=AppConfig("k", "s"), cassandra_port=1)
    with pytest.raises(db.MigrationError, match="keyspace name"):
        db.migrate(settings, keyspace="feedline\n")


def test_local_routes_are_whole_matches():
    t = template.load(ROOT / "template.yaml")
    assert t.match("GET", "/api/v1.0/feed/user/1/")[0].function == "ReadFunction"
    assert t.match("GET", "/api/v1.0/feed/user/1/\n") is None
