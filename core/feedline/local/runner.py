"""Invoke the template's functions in-process, as Lambda and API Gateway would."""

from __future__ import annotations

import base64
import importlib.util
import threading
import time
import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

import ujson

from feedline import runtime
from feedline.config import Settings
from feedline.fanout.queue import EmbeddedQueue, FanoutQueue, SqsQueue
from feedline.feeds.factory import check_formats
from feedline.local.template import Template


class LambdaContext:
    """The attributes handlers and powertools read from Lambda's context object."""

    def __init__(self, name: str, timeout_s: int, memory_mb: int = 512):
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalStack:
    """The functions of one template, sharing one runtime (storage + queue) like a deployment."""

    def __init__(self, template: Template, settings: Settings, *, queue: FanoutQueue | None = None,
                 install: bool = True):
        check_formats(settings.app)  # an invalid aggregation format stops the stack at start-up
        self.template = template
        self._modules: dict[str, Callable] = {}
        self._locks = {name: threading.Lock() for name in template.functions}
        consumer = template.queue_consumer()
        if queue is None:
            if settings.queue == "sqs":
                queue = SqsQueue(settings.queue_url, settings.sqs_endpoint)
            else:
                if consumer is None:
                    raise RuntimeError("template has no function with an SQS event source")
                queue = EmbeddedQueue(lambda event: self.invoke(consumer.name, event), settings.delivery)
        self.runtime = runtime.build(settings, queue=queue)
        if install:
            runtime.install(self.runtime)

    def handler(self, name: str) -> Callable:
        if name not in self._modules:
            fn = self.template.functions[name]
            module_name, _, attr = fn.handler.rpartition(".")
            path = fn.code_uri / (module_name.replace(".", "/") + ".py")
            spec = importlib.util.spec_from_file_location(f"feedline_fn_{name}", path)
            if spec is None or spec.loader is None:
                raise RuntimeError(f"cannot load {path}")
            mod: ModuleType = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            self._modules[name] = getattr(mod, attr)
        return self._modules[name]

    def invoke(self, name: str, event: dict) -> Any:
        if name not in self.template.functions:
            raise KeyError(f"no function {name!r} in {self.template.path}; have {sorted(self.template.functions)}")
        fn = self.template.functions[name]
        handler = self.handler(name)
        # one event at a time per function, as one Lambda execution environment does
        with self._locks[name]:
            return handler(event, LambdaContext(name, fn.timeout))

    # ---- API Gateway (HTTP API, payload format 2.0) -----------------------------------------
    def http(self, method: str, target: str, headers: dict[str, str], body: bytes,
             source_ip: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
        path, _, raw_qs = target.partition("?")
        found = self.template.match(method, path)
        if found is None:
            return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
        route, path_params = found
        event = http_event(method, path, raw_qs, headers, body, route.method, route.path, path_params, source_ip)
        result = self.invoke(route.function, event)
        return http_response(result)

    def close(self) -> None:
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


def http_response(result: Any) -> tuple[int, dict[str, str], bytes]:
    """Map a handler's return value to HTTP the way API Gateway's v2 payload format does."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # v2 infers a 200 JSON response from any other value
        return 200, {"content-type": "application/json"}, ujson.dumps(result).encode()
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    if result.get("cookies"):
        headers["set-cookie"] = ", ".join(result["cookies"])
    return int(result["statusCode"]), headers, raw
