"""Session options for the Cassandra family: local Cassandra, ScyllaDB, Amazon Keyspaces."""

from __future__ import annotations

import ssl

import pytest

from feedline.config import Settings
from feedline.storage.cassandra.session import session_options

pytest.importorskip("cassandra")

BASE = {"FEEDLINE_API_KEY": "k", "FEEDLINE_API_SECRET": "s", "FEEDLINE_STORAGE": "cassandra"}


def test_plain_cassandra_has_no_extras():
    s = Settings.from_env(BASE)
    assert s.cassandra_port == 9042 and session_options(s) == {}


def test_keyspaces_mode_is_tls_v4_sigv4_on_9142():
    from cassandra_sigv4.auth import SigV4AuthProvider

    s = Settings.from_env({**BASE, "FEEDLINE_CASSANDRA_KEYSPACES": "1", "AWS_DEFAULT_REGION": "eu-west-1"})
    opts = session_options(s)
    assert s.cassandra_port == 9142 and opts["protocol_version"] == 4
    assert isinstance(opts["ssl_context"], ssl.SSLContext) and opts["ssl_context"].check_hostname
    assert isinstance(opts["auth_provider"], SigV4AuthProvider)
    assert opts["body_copies"] is False  # no USING TIMESTAMP there: pages join bodies by IN


def test_service_specific_credentials_and_protocol_override():
    from cassandra.auth import PlainTextAuthProvider

    s = Settings.from_env({**BASE, "FEEDLINE_CASSANDRA_KEYSPACES": "true", "FEEDLINE_CASSANDRA_USERNAME": "u",
                           "FEEDLINE_CASSANDRA_PASSWORD": "p", "FEEDLINE_CASSANDRA_PORT": "9999",
                           "FEEDLINE_CASSANDRA_PROTOCOL": "4"})
    opts = session_options(s)
    assert s.cassandra_port == 9999 and isinstance(opts["auth_provider"], PlainTextAuthProvider)
    assert opts["protocol_version"] == 4
