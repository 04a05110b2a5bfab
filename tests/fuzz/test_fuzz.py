"""Property-based fuzzing of `feedline dev` from docs/openapi.yaml (schemathesis), bounded in time.

Every operation of the description gets generated requests (valid and invalid bodies, queries and
paths) with a server token of full scope. Whatever is sent, the server must answer:
- never a 5xx;
- a body a strict JSON parser reads (no NaN/Infinity, no raw control characters);
- every error in Stream's envelope (``exception``, ``code``, ``detail``, ``status_code``);
and data written before the run (a canary feed, follow and user) must be unchanged after it.

Bounded: ``FEEDLINE_FUZZ_EXAMPLES`` examples per operation (default 15; CI's Cassandra leg is
shorter). Runs against `feedline dev` exactly as `make run` starts it, per backend.
"""

from __future__ import annotations

import json
import os
import uuid

import jwt
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import API_KEY, API_SECRET, ROOT

SCHEMA = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")
TOKEN = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
HEADERS = {"Authorization": TOKEN, "stream-auth-type": "jwt"}
EXAMPLES = int(os.environ.get("FEEDLINE_FUZZ_EXAMPLES", "15"))
CANARY = f"canary{uuid.uuid4().hex[:12]}"


def _reject_constant(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")


def strict_json(text: str) -> object:
    """``json.loads`` as strict as JSON.parse: no NaN/Infinity, no control characters in strings."""
    return json.loads(text, parse_constant=_reject_constant)


def api(server, method: str, path: str, **kw) -> requests.Response:
    params = {"api_key": API_KEY, **kw.pop("params", {})}
    return requests.request(method, f"{server.base_url}/api/v1.0/{path}", params=params, headers=HEADERS,
                            timeout=20, **kw)


def canary_state(server) -> tuple:
    feed = api(server, "GET", f"feed/user/{CANARY}/").json()["results"]
    timeline = api(server, "GET", f"feed/timeline/{CANARY}/").json()["results"]
    user = api(server, "GET", f"user/{CANARY}/").json()
    return ([(a["id"], a["verb"], a["object"]) for a in feed], [a["id"] for a in timeline],
            {k: user.get(k) for k in ("id", "data", "created_at")})


@pytest.fixture(scope="module")
def server(dev_server):
    """The e2e suite's `feedline dev` (once per backend), with canary data written before fuzzing."""
    srv = dev_server
    api(srv, "POST", f"feed/timeline/{CANARY}/follows/", json={"target": f"user:{CANARY}"}).raise_for_status()
    api(srv, "POST", f"feed/user/{CANARY}/", json={"actor": CANARY, "verb": "post", "object": "canary:1",
                                                   "foreign_id": "canary:1", "time": "2024-01-01T00:00:00"}
        ).raise_for_status()
    api(srv, "POST", "user/", json={"id": CANARY, "data": {"name": "canary"}}).raise_for_status()
    before = canary_state(srv)
    assert before[0] and before[1]
    yield srv
    assert canary_state(srv) == before, "fuzzing changed data it never named"


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_no_server_error_and_always_strict_json(case, server):
    query = dict(case.query or {})
    query.setdefault("api_key", API_KEY)
    response = case.call(base_url=server.base_url, headers=HEADERS, params=query, timeout=20)
    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    assert response.status_code < 500, where
    body = strict_json(response.text)
    assert isinstance(body, dict), where
    if response.status_code >= 400:
        for key in ("exception", "code", "detail", "status_code"):
            assert key in body, where
        assert body["status_code"] == response.status_code, where


def test_the_description_is_served(dev_server):
    """`feedline dev` serves docs/openapi.yaml as JSON, the same document the fuzzer reads."""
    import yaml

    got = requests.get(f"{dev_server.base_url}/api/v1.0/openapi.json", timeout=10)
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
    assert got.json() == yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
