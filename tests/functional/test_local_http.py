"""`feedline dev`'s HTTP layer: uvicorn + the runner playing API Gateway, through real sockets.

Every finding of issue 15's "local HTTP layer" section has a test here: unrouted paths and methods
answer in Stream's envelope, malformed framing is refused with an answer (never a hang or a silent
drop), CORS follows template.yaml, many clients are all answered, and execution environments run
in parallel, each with its own handler state and storage connection.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest
import requests
import yaml

from feedline.config import AppConfig, Settings
from feedline.local import template
from feedline.local.runner import LocalStack, http_event
from tests.conftest import API_KEY, API_SECRET, FEED_GROUPS, ROOT, free_port, stop_process, wait_port

TOKEN = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
AUTH = {"Authorization": TOKEN, "stream-auth-type": "jwt"}


class Dev:
    """`feedline dev` in a subprocess on a free port, with extra command-line arguments."""

    def __init__(self, tmp: Path, *args: str):
        self.port = free_port()
        (tmp / "feedline.json").write_text(json.dumps({"feed_groups": FEED_GROUPS}))
        env = {**os.environ, "FEEDLINE_API_KEY": API_KEY, "FEEDLINE_API_SECRET": API_SECRET,
               "FEEDLINE_CONFIG": str(tmp / "feedline.json"), "FEEDLINE_SQLITE_PATH": str(tmp / "f.db"),
               "POWERTOOLS_LOG_LEVEL": "ERROR"}
        self.log = open(tmp / "server.log", "w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "feedline.cli", "dev", "--port", str(self.port), *args],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, self.proc)
        except Exception:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    server = Dev(tmp_path_factory.mktemp("http"))
    yield server
    server.stop()


def raw(port: int, data: bytes, timeout: float = 10.0, close_wait: float = 2.0) -> tuple[int, dict[str, str], bytes, bool]:
    """Send bytes, read one response: (status, headers, body, the server closed the connection
    within ``close_wait`` seconds). A test that does not look at the close passes ``close_wait=0``:
    a kept-alive connection would otherwise cost the whole wait."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:  # the server answered and closed before taking all of it: read the answer
            pass
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            assert chunk, f"connection closed without an answer after {buf!r}"
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        while not data.startswith(b"HEAD ") and len(body) < int(headers.get("content-length", 0)):
            chunk = s.recv(65536)
            assert chunk, "connection closed in the middle of the body"
            body += chunk
        if not close_wait:
            return status, headers, body, False
        s.settimeout(close_wait)
        try:
            closed = s.recv(1) == b""
        except ConnectionResetError:  # closed with our unread bytes still in its buffer
            closed = True
        except TimeoutError:
            closed = False
        return status, headers, body, closed


def envelope(body: bytes, status: int, code: int | None = None) -> dict:
    doc = json.loads(body)
    assert set(doc) >= {"exception", "code", "detail", "status_code", "duration"}, doc
    assert doc["status_code"] == status and doc["exception"] and doc["detail"] and doc["duration"].endswith("ms")
    if code is not None:
        assert doc["code"] == code
    return doc


# ---- unrouted paths and methods ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/nope", "/api/v2.0/feed/user/1/", "/api/v1.0"])
def test_unknown_path_is_a_404_in_streams_envelope(dev, path):
    resp = requests.get(dev.url + path, timeout=10)
    assert resp.status_code == 404
    assert envelope(resp.content, 404)["exception"] == "NotFound"


@pytest.mark.parametrize("method", ["PATCH", "HEAD", "OPTIONS", "TRACE"])
def test_known_path_with_an_unserved_method_is_a_405(dev, method):
    status, headers, body, _ = raw(dev.port, f"{method} /api/v1.0/feed/user/1/ HTTP/1.1\r\nHost: x\r\n\r\n".encode(), close_wait=0)
    assert status == 405
    assert set(headers["allow"].split(", ")) == {"GET", "POST", "PUT", "DELETE"}
    if method != "HEAD":  # HEAD answers carry no body
        assert envelope(body, 405)["exception"] == "MethodNotAllowed"


def test_stream_python_raises_on_an_unrouted_path(dev):
    """stream-python treats a 404 without ``exception`` as success: ours must make it raise."""
    import stream
    from stream.exceptions import StreamApiException

    client = stream.connect(API_KEY, API_SECRET, base_url=f"http://localhost:{dev.port}", timeout=10)
    with pytest.raises(StreamApiException) as err:
        client.personalization.get("follow_recommendations")  # /personalization/v1.0/...: no route
    assert err.value.status_code == 404


def test_put_reaches_the_write_function(dev):
    """PUT is routed (template.yaml) to the Write function, whose own resolver answers for the path."""
    t = template.load(ROOT / "template.yaml")
    assert t.match("PUT", "/api/v1.0/nothing/abc/")[0].function == "WriteFunction"
    resp = requests.put(f"{dev.url}/api/v1.0/nothing/abc/", params={"api_key": API_KEY}, headers=AUTH,
                        json={"data": {}}, timeout=10)
    assert resp.status_code == 404  # no PUT route in the Write function yet: its envelope, not a 405
    assert envelope(resp.content, 404)["detail"] == "no such endpoint: PUT /api/v1.0/nothing/abc/"


# ---- malformed requests --------------------------------------------------------------------------

POST = "POST /api/v1.0/feed/user/1/ HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize("lengths", [["abc"], ["-5"], ["-1"], ["1e3"], ["99999999999999999999999999"],
                                     ["5", "6"], ["5, 6"], [" "],
                                     ["5", "5"]])  # even repeated alike: RFC 9112 lets a server refuse it
def test_bad_content_length_is_a_400_with_an_answer(dev, lengths):
    head = "".join(f"Content-Length: {v}\r\n" for v in lengths)
    status, headers, body, closed = raw(dev.port, (POST + head + "\r\nhello").encode())
    assert status == 400
    envelope(body, 400, code=4)
    assert headers["content-type"] == "application/json" and closed


def test_minus_one_does_not_block_a_thread(dev):
    """Each ``Content-Length: -1`` is refused at once; the server keeps answering (more than its
    worker threads' worth of them were sent)."""
    t = time.monotonic()
    for _ in range(40):
        assert raw(dev.port, (POST + "Content-Length: -1\r\n\r\n").encode(), timeout=5)[0] == 400
    assert time.monotonic() - t < 20
    assert requests.get(f"{dev.url}/api/v1.0/feed/user/1/", params={"api_key": API_KEY}, headers=AUTH,
                        timeout=5).status_code == 200


def test_oversized_headers_are_a_431(dev):
    big = "X-Pad: " + "a" * 12_000 + "\r\n"
    status, _, body, closed = raw(dev.port, f"GET /api/v1.0/feed/user/1/ HTTP/1.1\r\nHost: x\r\n{big}\r\n".encode())
    assert status == 431 and closed
    envelope(body, 431)


def test_an_endless_request_head_is_cut_off_with_a_431(dev):
    """A head that never ends is refused by the parser once it passes its bound, not buffered forever."""
    head = b"GET /api/v1.0/feed/user/1/ HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200_000
    status, _, body, closed = raw(dev.port, head)
    assert status == 431 and closed
    envelope(body, 431)


def test_an_overlong_target_is_a_414(dev):
    status, _, body, _ = raw(dev.port, f"GET /api/v1.0/feed/user/{'a' * 9000}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode(), close_wait=0)
    assert status == 414
    envelope(body, 414)


def test_a_declared_oversized_body_is_a_413_before_it_is_sent(dev):
    status, _, body, closed = raw(dev.port, (POST + f"Content-Length: {10 * 1024 * 1024 + 1}\r\n\r\n").encode())
    assert status == 413 and closed
    envelope(body, 413)


def test_an_oversized_chunked_body_is_a_413(dev):
    chunk = b"x" * (1024 * 1024)
    data = (POST + "Transfer-Encoding: chunked\r\n\r\n").encode()
    data += b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(11)) + b"0\r\n\r\n"
    status, _, body, _ = raw(dev.port, data, timeout=30, close_wait=0)
    assert status == 413
    envelope(body, 413)


def test_garbage_and_unsupported_framing_get_an_answer(dev):
    for data, want in [(b"garbage\r\n\r\n", 400), (b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
                       ((POST + "Transfer-Encoding: gzip\r\n\r\n").encode(), 400),
                       ((POST + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n").encode(), 400)]:
        status, _, body, closed = raw(dev.port, data)
        assert status == want and closed, data
        envelope(body, want)


def test_keep_alive_serves_many_requests_on_one_connection(dev):
    with socket.create_connection(("127.0.0.1", dev.port), timeout=10) as s:
        req = f"GET /api/v1.0/feed/user/ka/?api_key={API_KEY} HTTP/1.1\r\nHost: x\r\nAuthorization: {TOKEN}\r\n" \
              "stream-auth-type: jwt\r\n\r\n"
        s.sendall(req.encode() * 3)  # pipelined
        buf = b""
        while buf.count(b"HTTP/1.1 200") < 3 or not buf.endswith(b"}"):
            chunk = s.recv(65536)
            assert chunk, buf
            buf += chunk
        assert buf.count(b"HTTP/1.1 200 OK") == 3


# ---- CORS, as template.yaml declares it ----------------------------------------------------------

def _declared_cors() -> dict:
    doc = yaml.load((ROOT / "template.yaml").read_text(), Loader=template._CfnLoader)  # noqa: S506
    conf = doc["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    origins = doc["Parameters"][conf["AllowOrigins"]["Ref"]]["Default"]
    return {**conf, "AllowOrigins": origins.split(",")}


def test_preflight_from_a_foreign_origin(dev):
    declared = _declared_cors()
    assert "PUT" in declared["AllowMethods"]
    resp = requests.options(f"{dev.url}/api/v1.0/feed/user/1/", timeout=10, headers={
        "Origin": "https://app.example.org", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type,stream-auth-type"})
    assert resp.status_code == 204 and resp.content == b""
    h = resp.headers
    assert h["access-control-allow-origin"] == "*" == declared["AllowOrigins"][0]
    assert h["access-control-allow-methods"].split(",") == declared["AllowMethods"]
    assert h["access-control-allow-headers"].split(",") == [x.lower() for x in declared["AllowHeaders"]]
    assert h["access-control-max-age"] == str(declared["MaxAge"])


def test_preflight_is_answered_for_any_path(dev):
    resp = requests.options(f"{dev.url}/anything", timeout=10, headers={
        "Origin": "https://app.example.org", "Access-Control-Request-Method": "GET"})
    assert resp.status_code == 204 and resp.headers["access-control-allow-origin"] == "*"


def test_actual_requests_carry_the_allow_origin_header(dev):
    url = f"{dev.url}/api/v1.0/feed/user/cors/"
    origin = {"Origin": "https://app.example.org"}
    ok = requests.get(url, params={"api_key": API_KEY}, headers={**AUTH, **origin}, timeout=10)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "*"
    added = requests.post(url, params={"api_key": API_KEY}, headers={**AUTH, **origin}, timeout=10,
                          json={"actor": "a", "verb": "v", "object": "o"})
    assert added.status_code == 200 and added.headers["access-control-allow-origin"] == "*"
    err = requests.get(url, params={"api_key": "wrong"}, headers={**AUTH, **origin}, timeout=10)
    assert err.status_code == 401 and err.headers["access-control-allow-origin"] == "*"  # a browser reads errors too
    missing = requests.get(f"{dev.url}/nope", headers=origin, timeout=10)
    assert missing.status_code == 404 and missing.headers["access-control-allow-origin"] == "*"
    same_origin = requests.get(url, params={"api_key": API_KEY}, headers=AUTH, timeout=10)
    assert not any(k.lower().startswith("access-control-") for k in same_origin.headers)


CORS_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Origins:
    Type: CommaDelimitedList
    Default: "https://app.example.org,http://*"
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: !Ref Origins
        AllowMethods: [GET, PUT]
        AllowHeaders: [Authorization]
        ExposeHeaders: [X-Request-Id, Date]
        AllowCredentials: true
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Events:
        Get:
          Type: HttpApi
          Properties: {Path: "/echo/{proxy+}", Method: GET}
  Sink:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.sink
      Events:
        Queue:
          Type: SQS
          Properties: {Queue: !GetAtt Q.Arn}
"""

ECHO_APP = '''
import json
import threading
import time

from feedline import runtime

STATE = {"invocations": 0}


def handler(event, context):
    STATE["invocations"] += 1
    rt = runtime.get()
    conn = rt.stores.activities.db.conn  # this environment's own connection
    conn.execute("SELECT 1").fetchall()
    start = time.time()
    time.sleep(float((event.get("queryStringParameters") or {}).get("sleep", "0")))
    return {"statusCode": 200, "headers": {"Content-Type": "application/json",
                                           "Access-Control-Allow-Origin": "https://evil.example"},
            "body": json.dumps({"module": __name__, "invocations": STATE["invocations"], "storage": id(rt.stores),
                                "conn": id(conn), "start": start, "end": time.time(), "event": event,
                                "stream": context.log_stream_name, "thread": threading.get_ident()})}


def sink(event, context):
    return {"batchItemFailures": []}
'''


def _echo_template(tmp: Path) -> Path:
    (tmp / "fn").mkdir()
    (tmp / "fn" / "app.py").write_text(textwrap.dedent(ECHO_APP))
    path = tmp / "template.yaml"
    path.write_text(CORS_TEMPLATE)
    return path


@pytest.fixture
def echo_stack(tmp_path):
    settings = Settings(app=AppConfig(API_KEY, API_SECRET), sqlite_path=str(tmp_path / "e.db"))
    stack = LocalStack(template.load(_echo_template(tmp_path)), settings, install=False, concurrency=2)
    yield stack
    stack.close()


def test_cors_configuration_is_read_from_the_template(echo_stack):
    cors = echo_stack.template.cors
    assert cors.allow_origins == ("https://app.example.org", "http://*")
    assert cors.allow_methods == ("GET", "PUT") and cors.max_age is None and cors.allow_credentials
    assert cors.expose_headers == ("X-Request-Id", "Date")


@pytest.mark.parametrize("origin,allowed", [("https://app.example.org", True), ("HTTPS://APP.EXAMPLE.ORG", True),
                                            ("http://localhost:3000", True), ("https://other.example", False),
                                            ("null", False)])
def test_origins_are_matched_like_api_gateway(echo_stack, origin, allowed):
    status, headers, body = echo_stack.http("OPTIONS", "/echo/x", {"Origin": origin,
                                                                   "Access-Control-Request-Method": "PUT"}, b"")
    assert status == 204 and body == b""
    if not allowed:
        assert headers == {}  # the browser refuses
        return
    assert headers == {"access-control-allow-origin": origin, "vary": "Origin",
                       "access-control-allow-credentials": "true", "access-control-allow-methods": "GET,PUT",
                       "access-control-allow-headers": "authorization"}
    status, headers, _ = echo_stack.http("GET", "/echo/x", {"Origin": origin}, b"")
    assert status == 200
    assert headers["access-control-allow-origin"] == origin  # the function's own value is dropped
    assert headers["access-control-expose-headers"] == "x-request-id,date"


def test_function_cors_headers_never_pass_for_a_refused_origin(echo_stack):
    status, headers, _ = echo_stack.http("GET", "/echo/x", {"Origin": "https://other.example"}, b"")
    assert status == 200 and not any(k.startswith("access-control-") for k in headers)


# ---- the event the functions receive -------------------------------------------------------------

def _echo_event(port: int, request: bytes) -> dict:
    status, _, body, _ = raw(port, request, close_wait=0)
    assert status == 200, body
    return json.loads(body)["event"]


def test_the_function_receives_the_api_gateway_v2_event_the_runner_builds(tmp_path):
    """Through uvicorn, the event is exactly ``http_event`` of the request (but its ids and clock)."""
    server = Dev(tmp_path, "--template", str(_echo_template(tmp_path)))
    try:
        body = "ünïcode".encode()
        got = _echo_event(server.port, b"GET /echo/a%2Fb/c?x=1&x=2&y=&z=%20 HTTP/1.1\r\nHost: h:1\r\n"
                                       b"User-Agent: t/1\r\nX-Multi: one\r\nCookie: a=1; b=2\r\n"
                                       b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        want = http_event("GET", "/echo/a%2Fb/c", "x=1&x=2&y=&z=%20", {
            "Host": "h:1", "User-Agent": "t/1", "X-Multi": "one", "Cookie": "a=1; b=2",
            "Content-Length": str(len(body))}, body, "GET", "/echo/{proxy+}", {"proxy": "a%2Fb/c"})
        for ev in (got, want):
            for volatile in ("requestId", "time", "timeEpoch"):
                ev["requestContext"].pop(volatile)
        assert got == want
        assert got["queryStringParameters"] == {"x": "1,2", "y": "", "z": " "} and got["cookies"] == ["a=1", "b=2"]
        # repeated headers are joined with commas, as API Gateway does; a body that is not UTF-8 is base64
        event = _echo_event(server.port, b"GET /echo/x HTTP/1.1\r\nHost: h\r\nX-Rep: 1\r\nX-Rep: 2\r\n"
                                         b"Content-Length: 2\r\n\r\n\xff\xfe")
        assert event["headers"]["x-rep"] == "1,2"
        assert event["isBase64Encoded"] is True and event["body"] == "//4="
    finally:
        server.stop()


# ---- many clients, parallel execution environments -----------------------------------------------

def test_32_concurrent_clients_are_all_answered(dev):
    """32 threads, each on its own keep-alive session, writing and reading: every request answered
    (the old server's backlog of 5 reset connections at this load), every write readable after."""
    def client(i: int) -> list[str]:
        ids = []
        with requests.Session() as s:
            for j in range(4):
                r = s.post(f"{dev.url}/api/v1.0/feed/user/c{i}/", params={"api_key": API_KEY}, headers=AUTH,
                           json={"actor": f"c{i}", "verb": "v", "object": str(j)}, timeout=30)
                assert r.status_code == 200, r.text
                ids.append(r.json()["id"])
                r = s.get(f"{dev.url}/api/v1.0/feed/user/c{i}/", params={"api_key": API_KEY}, headers=AUTH, timeout=30)
                assert r.status_code == 200, r.text
        return ids

    start = [threading.Barrier(32)]

    def run(i: int) -> list[str]:
        start[0].wait()
        return client(i)

    with ThreadPoolExecutor(32) as pool:
        written = list(pool.map(run, range(32)))
    for i, ids in enumerate(written):
        page = requests.get(f"{dev.url}/api/v1.0/feed/user/c{i}/", params={"api_key": API_KEY}, headers=AUTH,
                            timeout=10).json()
        assert sorted(r["id"] for r in page["results"]) == sorted(ids)


def _slow(url: str, seconds: float) -> dict:
    r = requests.get(f"{url}/echo/slow", params={"sleep": seconds}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_executions_run_in_parallel_each_with_its_own_state(tmp_path):
    server = Dev(tmp_path, "--template", str(_echo_template(tmp_path)), "--concurrency", "3")
    try:
        _slow(server.url, 0)  # one warm environment
        t = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            a, b, c = pool.map(lambda _: _slow(server.url, 1.0), range(3))
        wall = time.monotonic() - t
        assert wall < 2.5, wall  # serialized they would need 3 s
        assert max(x["start"] for x in (a, b, c)) < min(x["end"] for x in (a, b, c))  # all three overlapped
        # three environments: three module copies (handler state), storages and SQLite connections
        assert len({x["module"] for x in (a, b, c)}) == 3
        assert len({x["storage"] for x in (a, b, c)}) == 3 and len({x["conn"] for x in (a, b, c)}) == 3
        assert {x["stream"] for x in (a, b, c)} == {"local/0", "local/1", "local/2"}
        # the warm environment was reused (a second invocation), the others were cold
        assert sorted(x["invocations"] for x in (a, b, c)) == [1, 1, 2]
    finally:
        server.stop()


def test_concurrency_1_serializes_a_function(tmp_path):
    server = Dev(tmp_path, "--template", str(_echo_template(tmp_path)), "--concurrency", "1")
    try:
        with ThreadPoolExecutor(2) as pool:
            a, b = pool.map(lambda _: _slow(server.url, 0.5), range(2))
        first, second = sorted((a, b), key=lambda x: x["start"])
        assert second["start"] >= first["end"] - 0.01  # one environment: one event at a time
        assert a["module"] == b["module"] and sorted([a["invocations"], b["invocations"]]) == [1, 2]
    finally:
        server.stop()


def test_shutdown_answers_requests_in_flight(tmp_path):
    """SIGTERM while a request runs: it is still answered, then the server exits cleanly."""
    server = Dev(tmp_path, "--template", str(_echo_template(tmp_path)))
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(_slow, server.url, 1.0)
            time.sleep(0.4)
            server.proc.send_signal(signal.SIGTERM)
            assert pending.result(timeout=20)["end"] > 0
        assert server.proc.wait(20) == 0
    finally:
        server.stop()


def test_websocket_upgrades_are_refused_until_something_serves_them():
    import asyncio

    from feedline.local.asgi import LocalApi

    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "websocket.connect"}

    asyncio.run(LocalApi(stack=None)({"type": "websocket", "path": "/faye"}, receive, send))  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_concurrent_environments_never_see_each_others_request(tmp_path):
    """Environments share one process: nothing a library keeps per process may mix two requests up.

    (powertools' resolver keeps the event it routes on its class, one per process as in Lambda:
    two environments routing at once crossed their requests, a follow answered as an activity.)
    Thread switches are made very frequent so that any shared request state shows within a run.
    """
    settings = Settings(app=AppConfig(API_KEY, API_SECRET), sqlite_path=str(tmp_path / "x.db"))
    stack = LocalStack(template.load(ROOT / "template.yaml"), settings, concurrency=8)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    failures: list[str] = []

    def client(i: int) -> None:
        for j in range(15):
            status, _, out = stack.http("POST", f"/api/v1.0/feed/user/x{i}/?api_key={API_KEY}", AUTH,
                                        json.dumps({"actor": f"x{i}", "verb": "v", "object": f"{i}:{j}"}).encode())
            if status != 200:
                failures.append(f"write {i}: {status} {out[:200]!r}")
                continue
            status, _, out = stack.http("POST", f"/api/v1.0/feed/timeline/x{i}/follows/?api_key={API_KEY}", AUTH,
                                        json.dumps({"target": f"user:x{(i + j) % 16}"}).encode())
            if status != 200:
                failures.append(f"follow {i}: {status} {out[:200]!r}")

    try:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(client, range(16)))
    finally:
        sys.setswitchinterval(interval)
    try:
        assert failures == []
        for i in range(16):
            status, _, out = stack.http("GET", f"/api/v1.0/feed/user/x{i}/?api_key={API_KEY}&limit=100", AUTH, b"")
            assert sorted(r["object"] for r in json.loads(out)["results"]) == sorted(f"{i}:{j}" for j in range(15))
    finally:
        stack.close()
