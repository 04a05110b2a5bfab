"""The shared HTTP adapter of the Write and Read functions, on powertools' APIGatewayHttpResolver.

It owns what every route needs and no route should repeat: the request clock for ``duration``,
authentication and authorisation, JSON body parsing, and the Stream-style error envelope for every
failure (bad input is a 4xx with ``exception``/``code``/``detail``, never a 500).

Routes are recorded at import and handed to powertools' resolver when the first request that
needs it arrives: importing ``aws_lambda_powertools.event_handler`` costs ~100 ms of cold start,
which the Read function's hot route (pre-dispatched, see ``fast``) does not need to pay.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from dataclasses import dataclass

import ujson

from feedline import runtime as runtime_mod
from feedline.api.auth import Authenticator, Principal, authorize
from feedline.errors import InputException, ServiceUnavailable, StorageUnavailable, StreamError
from feedline.serialization import json_bytes, with_duration

JSON = "application/json"
log = logging.getLogger("feedline.api")


@dataclass(frozen=True, slots=True)
class Reply:
    """A route's answer: always JSON (powertools' ``Response`` is made from it where needed)."""

    status_code: int
    body: str


class Api:
    """One function's routes plus the envelope. Call the instance as the Lambda handler."""

    def __init__(self, name: str, *, check_formats: bool = False):
        self.name = name
        self.check_formats = check_formats
        self._checked: runtime_mod.Runtime | None = None
        self._routes: list[tuple[str, str, Callable]] = []
        self._resolver: Any = None
        self._start = 0.0
        self._auth: Authenticator | None = None
        self._auth_rt: runtime_mod.Runtime | None = None
        self.rt: runtime_mod.Runtime | None = None
        self._logger: Any = None
        self._raw: dict = {}
        self._fast: list[tuple[str, re.Pattern, Callable]] = []

    # ---- routes -----------------------------------------------------------------------------
    def route(self, path: str, method: str) -> Callable[[Callable], Callable]:
        def register(fn: Callable) -> Callable:
            self._routes.append((method, path, fn))
            return fn
        return register

    def get(self, path: str) -> Callable[[Callable], Callable]:
        return self.route(path, "GET")

    def post(self, path: str) -> Callable[[Callable], Callable]:
        return self.route(path, "POST")

    def delete(self, path: str) -> Callable[[Callable], Callable]:
        return self.route(path, "DELETE")

    def put(self, path: str) -> Callable[[Callable], Callable]:
        return self.route(path, "PUT")

    @property
    def resolver(self) -> Any:
        """powertools' resolver with every recorded route, built on first use."""
        if self._resolver is None:
            from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

            def adapt(fn: Callable) -> Callable:
                def call(*args: Any, **kwargs: Any) -> Any:
                    r = fn(*args, **kwargs)
                    return Response(r.status_code, JSON, r.body)
                return call

            class Resolver(APIGatewayHttpResolver):
                def resolve(self, event: dict, context: Any) -> dict:
                    # powertools keeps the event it routes on its *class* (one event per process in
                    # Lambda); pinned on this instance, concurrent Api copies in one process (the
                    # local runner's execution environments) route each their own request
                    self.current_event = self._to_proxy_event(event)
                    self.lambda_context = context
                    return super().resolve(event, context)

            resolver = Resolver()
            for method, path, fn in self._routes:
                resolver.route(path, method)(adapt(fn))
            resolver.exception_handler(StreamError)(adapt(self._stream_error))
            resolver.exception_handler(StorageUnavailable)(adapt(self._unavailable))
            resolver.exception_handler(Exception)(adapt(self._crash))
            resolver.not_found(adapt(self._not_found))
            self._resolver = resolver
        return self._resolver

    # ---- entry point ------------------------------------------------------------------------
    def __call__(self, event: dict, context: Any = None) -> dict:
        self._start = time.perf_counter()
        self.rt = runtime_mod.get()
        if self.check_formats and self._checked is not self.rt:
            # cold start of the write side: an invalid aggregation format fails here, loudly
            self.rt.settings.app.check_formats()
            self._checked = self.rt
        self._raw = event
        if self._fast:
            method = (event.get("requestContext") or {}).get("http", {}).get("method")
            path = event.get("rawPath") or ""
            for m, rx, fn in self._fast:
                if m == method:
                    found = rx.match(path)
                    if found is not None:
                        return self._run_fast(fn, found.groups())
        return self.resolver.resolve(event, context)

    def fast(self, method: str, route: str) -> Callable[[Callable], Callable]:
        """Register ``route`` with powertools *and* as a pre-dispatched hot route.

        Why: powertools' generic resolver costs ~30-45 µs a request (PERF-NOTES), a third of a feed
        read's own CPU budget. The hot route is matched by one precompiled regex instead and runs
        the same function under the same error envelope; every other route goes through powertools.
        """
        rx = re.compile("^" + re.sub(r"<\w+>", "([^/]+)", re.escape(route).replace(r"\<", "<").replace(r"\>", ">")) + "$")

        def register(fn: Callable) -> Callable:
            self.route(route, method)(fn)
            self._fast.append((method, rx, fn))
            return fn

        return register

    def _run_fast(self, fn: Callable, args: tuple) -> dict:
        try:
            resp = fn(*args)
        except StreamError as err:
            resp = self._stream_error(err)
        except StorageUnavailable as err:
            resp = self._unavailable(err)
        except Exception as err:  # same answer the resolver's handler gives
            resp = self._crash(err)
        return {"statusCode": resp.status_code, "body": resp.body, "isBase64Encoded": False,
                "headers": {"Content-Type": JSON}, "cookies": []}

    @property
    def logger(self) -> Any:
        # Built on first use, not at import: powertools' Logger reads its env configuration.
        if self._logger is None:
            from aws_lambda_powertools import Logger

            self._logger = Logger(service=f"feedline-{self.name}")
        return self._logger

    # ---- request helpers --------------------------------------------------------------------
    @property
    def query(self) -> dict[str, str]:
        return self._raw.get("queryStringParameters") or {}

    @property
    def headers(self) -> dict[str, str]:
        return self._raw.get("headers") or {}

    @staticmethod
    def path_value(value: str) -> str:
        return unquote(value)

    def feed(self, slug: str, uid: str, resource: str, action: str) -> tuple[str, Any, Principal]:
        """``(feed id, feed group, caller)`` for a route's ``<slug>/<uid>``: path values decoded,
        the feed id validated and the caller authorised for ``action`` on ``resource`` of it."""
        fid, group = self.rt.service.feed(unquote(slug), unquote(uid))
        return fid, group, self.principal(resource, action, fid)

    def principal(self, resource: str, action: str, feed: str | None) -> Principal:
        rt = self.rt
        assert rt is not None
        if self._auth is None or self._auth_rt is not rt:
            self._auth, self._auth_rt = Authenticator(rt.settings.app), rt
        headers = self.headers
        who = self._auth.authenticate(
            self.query.get("api_key"),
            headers.get("authorization") or headers.get("Authorization"),
            headers.get("stream-auth-type") or headers.get("Stream-Auth-Type"),
        )
        authorize(rt.settings.app, who, resource, action, feed)
        return who

    def body(self) -> Any:
        raw = self._raw.get("body")
        if raw is None or raw == "":
            raise InputException("request body is missing: expected JSON", {"body": ["required"]})
        if self._raw.get("isBase64Encoded"):
            import base64

            raw = base64.b64decode(raw)
        try:
            return ujson.loads(raw)
        except ValueError as exc:
            raise InputException(f"request body is not valid JSON: {exc}", {"body": ["invalid JSON"]}) from None

    # ---- responses --------------------------------------------------------------------------
    def duration(self) -> str:
        return f"{(time.perf_counter() - self._start) * 1000:.2f}ms"

    def raw(self, body: bytes, status: int = 200) -> Reply:
        return Reply(status, body.decode("utf-8"))

    def ok(self, payload: dict | bytes | None = None, status: int = 200) -> Reply:
        """A JSON object response with ``duration`` added (bytes are a stored JSON object)."""
        if payload is None:
            payload = b"{}"
        if isinstance(payload, dict):
            payload = json_bytes(payload)
        return self.raw(with_duration(payload, self.duration()), status)

    def _error(self, err: StreamError) -> Reply:
        body = err.payload()
        body["duration"] = self.duration()
        return Reply(err.status_code, ujson.dumps(body, ensure_ascii=False))

    def _stream_error(self, err: StreamError) -> Reply:
        if err.status_code >= 500:
            self.logger.error("request failed", extra={"detail": err.detail})
        return self._error(err)

    def _unavailable(self, err: Exception) -> Reply:
        self.logger.warning("storage unavailable", extra={"detail": str(err)})
        return self._error(ServiceUnavailable(f"storage is unavailable, retry later: {err}"))

    def _crash(self, err: Exception) -> Reply:
        self.logger.exception("unhandled error")
        return self._error(StreamError(f"internal error: {type(err).__name__}"))

    def _not_found(self, _exc: Exception) -> Reply:
        method = (self._raw.get("requestContext") or {}).get("http", {}).get("method")
        err = StreamError(f"no such endpoint: {method} {self._raw.get('rawPath')}", status_code=404)
        err.exception = "NotFound"
        return self._error(err)
