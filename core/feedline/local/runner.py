"""Invoke the template's functions in-process, as Lambda and API Gateway would.

The concurrency model (see ``executions`` for the details): every function of the template has a
pool of up to ``concurrency`` execution environments, like Lambda's containers. Each environment
has its own copy of the function's module (its own handler state), its own ``Runtime`` with its
own storage connection (SQLite: one connection per environment on the WAL file), and handles one
event at a time; different environments run in parallel threads. ``concurrency`` defaults to the
machine's cores plus four (``default_concurrency``): the handlers spend much of their time in the
storage driver with the GIL released, so a few more environments than cores keep the cores busy.
All environments share the stack's fan-out queue, as the deployed functions share one SQS queue.

What threads cannot model: the environments share one interpreter, so handler CPU runs under one
GIL (waits on storage overlap, Python work does not), and state a library keeps per process is
shared by every environment where Lambda would give each its own (so the HTTP toolkit keeps no
per-request state on its handler: ``feedline.api.app`` hands each invocation a ``Request``).

The HTTP side plays API Gateway's HTTP API (payload format 2.0): ``route`` turns a request into
the function's event or into the gateway's own answer (CORS preflight, 404 for a path no route
knows, 405 for a known path with a method no function serves, each in Stream's error envelope),
and ``respond`` turns the function's result into the HTTP response, with the template's CORS
headers applied.
"""

from __future__ import annotations

import base64
import logging
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import ujson

from feedline import runtime
from feedline.config import Settings
from feedline.fanout.queue import EmbeddedQueue, FanoutQueue, SqsQueue
from feedline.feeds.factory import check_formats
from feedline.local import cors
from feedline.local.executions import Executions, LambdaContext  # noqa: F401 - LambdaContext re-exported
from feedline.local.template import Template

log = logging.getLogger("feedline.dev")

Response = tuple[int, dict[str, str], bytes]
JSON_HEADERS = {"content-type": "application/json"}
#: the API description, served by the local stack (docs/openapi.yaml as JSON)
OPENAPI_PATH = "/api/v1.0/openapi.json"


def default_concurrency() -> int:
    """Execution environments per function when none is given: cores + 4 (see the module docstring)."""
    return (os.cpu_count() or 1) + 4


@dataclass(frozen=True)
class Call:
    """A request the gateway hands to a function: the function, its event, the request's headers."""

    function: str
    event: dict
    headers: dict[str, str]  # lower-case names, for the CORS headers of the response
    start: float


def error_response(status: int, exception: str, detail: str, start: float, code: int = 1,
                   headers: dict[str, str] | None = None) -> Response:
    """An answer of the gateway itself, in Stream's error envelope (stream-python raises on it)."""
    body = {"exception": exception, "code": code, "detail": detail, "status_code": status,
            "duration": f"{(time.perf_counter() - start) * 1000:.2f}ms"}
    return status, {**JSON_HEADERS, **(headers or {})}, ujson.dumps(body, ensure_ascii=False).encode()


class LocalStack:
    """The functions of one template, with their execution environments, like a deployment."""

    def __init__(self, template: Template, settings: Settings, *, queue: FanoutQueue | None = None,
                 install: bool = True, concurrency: int | None = None):
        check_formats(settings.app)  # an invalid aggregation format stops the stack at start-up
        self.template = template
        self._openapi: bytes | None = None
        self.settings = settings
        self.concurrency = concurrency or default_concurrency()
        consumer = template.queue_consumer()
        if queue is None:
            if settings.queue == "sqs":
                queue = SqsQueue(settings.queue_url, settings.sqs_endpoint)
            else:
                if consumer is None:
                    raise RuntimeError("template has no function with an SQS event source")
                queue = EmbeddedQueue(lambda event: self.invoke(consumer.name, event), settings.delivery)
        self.queue = queue
        # The process-wide runtime: what a handler called outside an execution environment uses
        # (``handler(name)(event)`` in tests, tools). It connects only if something uses it.
        self.runtime = runtime.build(settings, queue=queue)
        self.executions = {name: Executions(fn, self.concurrency, self._environment_runtime)
                           for name, fn in template.functions.items()}
        if install:
            runtime.install(self.runtime)

    def _environment_runtime(self) -> runtime.Runtime:
        if self.settings.storage == "sqlite" and self.settings.sqlite_path == ":memory:":
            # every connection to ":memory:" is a database of its own: environments share one
            return runtime.build(self.settings, stores=self.runtime.stores, queue=self.queue)
        return runtime.build(self.settings, queue=self.queue)

    def handler(self, name: str) -> Any:
        """The handler of the function's first execution environment."""
        return self._executions(name).first().handler

    def _executions(self, name: str) -> Executions:
        if name not in self.executions:
            raise KeyError(f"no function {name!r} in {self.template.path}; have {sorted(self.template.functions)}")
        return self.executions[name]

    def invoke(self, name: str, event: dict) -> Any:
        """Run one event in a free execution environment of the function (waiting for one if all are busy)."""
        return self._executions(name).invoke(event)

    # ---- API Gateway (HTTP API, payload format 2.0) -----------------------------------------
    def route(self, method: str, target: str, headers: dict[str, str], body: bytes,
              source_ip: str = "127.0.0.1") -> Call | Response:
        """The function call a request becomes, or the gateway's own answer to it."""
        start = time.perf_counter()
        lower = {k.lower(): v for k, v in headers.items()}
        tcors = self.template.cors
        if tcors is not None and cors.is_preflight(method, lower):
            return cors.preflight(tcors, lower)
        path, _, raw_qs = target.partition("?")
        if path == OPENAPI_PATH and method in ("GET", "HEAD"):
            return 200, self._cors(lower, dict(JSON_HEADERS)), self.openapi()
        found = self.template.match(method, path)
        if found is None:
            allowed = self.template.methods(path)
            if allowed:
                status, hdrs, out = error_response(
                    405, "MethodNotAllowed", f"{method} is not allowed on {path}: use {', '.join(sorted(allowed))}",
                    start, headers={"allow": ", ".join(sorted(allowed))})
            else:
                status, hdrs, out = error_response(404, "NotFound", f"no such endpoint: {method} {path}", start)
            return status, self._cors(lower, hdrs), out
        route, path_params = found
        event = http_event(method, path, raw_qs, headers, body, route.method, route.path, path_params, source_ip)
        return Call(route.function, event, lower, start)

    def openapi(self) -> bytes:
        """docs/openapi.yaml (beside the template) as JSON: the description the fuzz suite uses."""
        if self._openapi is None:
            import yaml

            doc = self.template.path.parent / "docs" / "openapi.yaml"
            if not doc.exists():
                return ujson.dumps({"detail": f"no {doc}"}).encode()
            self._openapi = ujson.dumps(yaml.safe_load(doc.read_text(encoding="utf-8")), ensure_ascii=True).encode()
        return self._openapi

    def respond(self, call: Call, result: Any) -> Response:
        try:
            status, headers, out = http_response(result)
        except Exception:  # a result API Gateway could not map either: its 500, in Stream's envelope
            log.exception("%s returned a result that is not an HTTP API v2 response", call.function)
            status, headers, out = self.crashed(call)
        return status, self._cors(call.headers, headers), out

    def crashed(self, call: Call) -> Response:
        status, headers, out = error_response(
            500, "StreamApiException", f"internal error: {call.function} failed (see the feedline dev log)", call.start)
        return status, self._cors(call.headers, headers), out

    def execute(self, call: Call) -> Response:
        """Invoke the call's function and map its result (run in a worker thread by the server)."""
        try:
            result = self.invoke(call.function, call.event)
        except Exception:  # the function raised: Lambda reports an error, API Gateway answers 500
            log.exception("%s failed", call.function)
            return self.crashed(call)
        return self.respond(call, result)

    def http(self, method: str, target: str, headers: dict[str, str], body: bytes,
             source_ip: str = "127.0.0.1") -> Response:
        routed = self.route(method, target, headers, body, source_ip)
        return self.execute(routed) if isinstance(routed, Call) else routed

    def _cors(self, request_headers: dict[str, str], headers: dict[str, str]) -> dict[str, str]:
        return headers if self.template.cors is None else cors.apply(self.template.cors, request_headers, headers)

    def close(self) -> None:
        for ex in self.executions.values():
            ex.close()
        self.runtime.close()


def http_event(method: str, path: str, raw_qs: str, headers: dict[str, str], body: bytes,
               route_method: str, route_path: str, path_params: dict[str, str],
               source_ip: str = "127.0.0.1") -> dict:
    query: dict[str, str] = {}
    for k, v in parse_qsl(raw_qs, keep_blank_values=True):
        # API Gateway joins repeated parameters with commas
        query[k] = f"{query[k]},{v}" if k in query else v
    hdrs: dict[str, str] = {}
    for k, v in headers.items():
        lk = k.lower()
        hdrs[lk] = f"{hdrs[lk]},{v}" if lk in hdrs else v
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{route_method} {route_path}",
        "rawPath": path,
        "rawQueryString": raw_qs,
        "headers": hdrs,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": hdrs.get("host", "localhost"),
            "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": hdrs.get("user-agent", "")},
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{route_method} {route_path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    if "cookie" in hdrs:
        event["cookies"] = [c.strip() for c in hdrs["cookie"].split(";")]
    return event


def http_response(result: Any) -> Response:
    """Map a handler's return value to HTTP the way API Gateway's v2 payload format does."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # v2 infers a 200 JSON response from any other value
        return 200, dict(JSON_HEADERS), ujson.dumps(result).encode()
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    if result.get("cookies"):
        headers["set-cookie"] = ", ".join(result["cookies"])
    return int(result["statusCode"]), headers, raw
