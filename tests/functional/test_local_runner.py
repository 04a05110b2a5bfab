"""The local runner plays API Gateway and the SQS event source from template.yaml."""

from __future__ import annotations

import json

import jwt
import pytest

from feedline.config import AppConfig, Settings
from feedline.local import template
from feedline.local.runner import LocalStack
from tests.conftest import API_KEY, API_SECRET, ROOT

TOKEN = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")


@pytest.fixture
def stack(tmp_path):
    settings = Settings(app=AppConfig(API_KEY, API_SECRET), sqlite_path=str(tmp_path / "f.db"))
    s = LocalStack(template.load(ROOT / "template.yaml"), settings)
    yield s
    s.close()


def call(stack, method, path, body=None):
    status, headers, out = stack.http(method, f"{path}?api_key={API_KEY}",
                                      {"Authorization": TOKEN, "stream-auth-type": "jwt"},
                                      json.dumps(body).encode() if body is not None else b"")
    return status, json.loads(out)


def test_template_routes_match_like_api_gateway():
    t = template.load(ROOT / "template.yaml")
    assert {r.function for r in t.routes} == {"WriteFunction", "ReadFunction"}
    route, params = t.match("GET", "/api/v1.0/feed/user/1/")
    assert route.function == "ReadFunction" and params == {"proxy": "feed/user/1/"}
    assert t.match("POST", "/api/v1.0/feed/user/1/")[0].function == "WriteFunction"
    assert t.match("DELETE", "/api/v1.0/feed/user/1/x/")[0].function == "WriteFunction"
    assert t.match("GET", "/other/") is None
    assert t.queue_consumer().name == "FanoutFunction"


def test_http_through_handlers_and_queue(stack):
    status, _ = call(stack, "POST", "/api/v1.0/feed/timeline/a/follows/", {"target": "user:b"})
    assert status == 200
    status, act = call(stack, "POST", "/api/v1.0/feed/user/b/", {"actor": "b", "verb": "v", "object": "o"})
    assert status == 200 and act["duration"]
    status, page = call(stack, "GET", "/api/v1.0/feed/timeline/a/")
    assert status == 200 and [r["id"] for r in page["results"]] == [act["id"]]
    assert page["results"][0]["origin"] == "user:b"


def test_invoke_function_directly(stack):
    event = {"Records": [{"messageId": "1", "body": "{\"v\": 99}", "attributes": {}, "eventSource": "aws:sqs"}]}
    assert stack.invoke("FanoutFunction", event) == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    with pytest.raises(KeyError):
        stack.invoke("NoSuchFunction", {})
