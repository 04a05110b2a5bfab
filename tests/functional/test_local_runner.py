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
    assert {r.function for r in t.routes} == {"WriteFunction", "ReadFunction", "RealtimeFunction"}
    assert t.match("POST", "/faye")[0].function == "RealtimeFunction"  # the Faye handshake over HTTP
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


def test_feedline_invoke_runs_each_function_on_the_event_files(tmp_path):
    """`feedline invoke` (the CLI, like `sam local invoke`) on tests/events: write, read, fan-out."""
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "FEEDLINE_API_KEY": "local-key", "FEEDLINE_API_SECRET": "local-secret-change-me-for-anything-shared",
           "FEEDLINE_SQLITE_PATH": str(tmp_path / "invoke.db"), "POWERTOOLS_LOG_LEVEL": "ERROR",
           "PYTHONWARNINGS": "ignore"}

    def invoke(function, event):
        out = subprocess.run([sys.executable, "-m", "feedline.cli", "invoke", function, "--event",
                              str(ROOT / "tests" / "events" / event)], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    added = invoke("WriteFunction", "add_activity.json")
    assert added["statusCode"] == 200, added
    activity = json.loads(added["body"])
    page = invoke("ReadFunction", "read_feed.json")
    assert page["statusCode"] == 200
    assert [r["id"] for r in json.loads(page["body"])["results"]] == [activity["id"]]
    assert invoke("FanoutFunction", "fanout_sqs.json") == {"batchItemFailures": []}


@pytest.mark.parametrize("path,query", [
    ("/api/v1.0/feed/user/fast/", "limit=2"),
    ("/api/v1.0/feed/us$er/fast/", ""),            # 400 from inside the route
    ("/api/v1.0/feed/nosuch/fast/", ""),           # 400 FeedConfigException
    ("/api/v1.0/feed/user/fast/", "id_lt=nope"),   # 400 bad cursor
])
def test_fast_route_answers_exactly_like_the_resolver(stack, path, query):
    """The hot GET feed route answers the same whether it is dispatched first or in route order."""
    from feedline.activities import routes as activities
    from feedline.api.app import Api
    from feedline.api.routes import Routes
    from feedline.feeds import routes as feeds
    from feedline.follows import routes as follows
    from feedline.local.runner import http_event

    call(stack, "POST", "/api/v1.0/feed/user/fast/", {"activities": [
        {"actor": "a", "verb": "v", "object": str(i), "time": f"2020-01-0{i + 1}T00:00:00"} for i in range(3)]})
    read = stack.handler("ReadFunction")
    assert read.routes[0] == ("GET", r"/api/v1\.0/feed/([^/]+)/([^/]+)/")  # the hot route is tried first
    cold = Routes()  # the same routes, none of them hot, feeds last
    for r in [*activities.read.items, *follows.read.items, *feeds.read.items]:
        cold.route(r.method, r.path)(r.fn)
    plain = Api("read", cold, runtime=read.runtime)
    event = http_event("GET", path, f"api_key={API_KEY}&{query}", {"authorization": TOKEN, "stream-auth-type": "jwt"},
                       b"", "GET", "/api/v1.0/{proxy+}", {})
    fast = read(event, None)
    slow = plain(event, None)
    strip = lambda r: {**r, "body": {k: v for k, v in json.loads(r["body"]).items() if k != "duration"}}  # noqa: E731
    assert strip(fast) == strip(slow)
    assert fast["statusCode"] in (200, 400)
