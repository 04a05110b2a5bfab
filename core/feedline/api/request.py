"""One HTTP request as a route sees it: the API Gateway event, the runtime, the caller.

A ``Request`` is made per invocation and passed to the route, so a function's ``Api`` holds no
per-request state and concurrent invocations (the local runner's executions) never share one.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ujson

from feedline.api.auth import Principal, authorize
from feedline.config import FeedGroup
from feedline.errors import InputException
from feedline.models.feeds import check_slug_uid

if TYPE_CHECKING:
    from feedline.api.app import Api
    from feedline.runtime import Runtime


class Request:
    __slots__ = ("event", "rt", "api", "start")

    def __init__(self, event: dict, rt: Runtime, api: Api, start: float):
        self.event = event
        self.rt = rt
        self.api = api
        self.start = start

    @property
    def query(self) -> Mapping[str, str]:
        return self.event.get("queryStringParameters") or {}

    @property
    def headers(self) -> Mapping[str, str]:
        return self.event.get("headers") or {}

    @property
    def method(self) -> str:
        return ((self.event.get("requestContext") or {}).get("http") or {}).get("method", "")

    @property
    def path(self) -> str:
        return self.event.get("rawPath") or ""

    def duration(self) -> str:
        return f"{(time.perf_counter() - self.start) * 1000:.2f}ms"

    # ---- caller -----------------------------------------------------------------------------
    def principal(self, resource: str, action: str, feed: str | None) -> Principal:
        """The authenticated caller, authorised for ``action`` on ``resource`` (of ``feed``)."""
        who = self._authenticate()
        authorize(self.rt.settings.app, who, resource, action, feed)
        return who

    def caller(self, resource: str, action: str) -> Principal:
        """The authenticated caller of a resource that is not a feed (users, collection items):
        a server token is authorised for ``action`` on ``resource``; a user token is returned
        as it is, for the route to check that it touches only what the user owns (spec §4)."""
        who = self._authenticate()
        if not who.is_user:
            authorize(self.rt.settings.app, who, resource, action, None)
        return who

    def _authenticate(self) -> Principal:
        headers = self.headers
        return self.api.authenticator(self.rt).authenticate(
            self.query.get("api_key"),
            headers.get("authorization") or headers.get("Authorization"),
            headers.get("stream-auth-type") or headers.get("Stream-Auth-Type"),
        )

    def feed(self, slug: str, uid: str, resource: str, action: str) -> tuple[str, FeedGroup, Principal]:
        """``(feed id, feed group, caller)`` for a route's ``<slug>/<uid>``: the feed id validated,
        its group known, the caller authorised for ``action`` on ``resource`` of it."""
        fid = check_slug_uid(slug, uid)
        group = self.rt.settings.app.group(slug)
        return fid, group, self.principal(resource, action, fid)

    # ---- body -------------------------------------------------------------------------------
    def body(self) -> Any:
        raw = self.event.get("body")
        if raw is None or raw == "":
            raise InputException("request body is missing: expected JSON", {"body": ["required"]})
        if self.event.get("isBase64Encoded"):
            raw = base64.b64decode(raw)
        try:
            return ujson.loads(raw)
        except ValueError as exc:
            raise InputException(f"request body is not valid JSON: {exc}", {"body": ["invalid JSON"]}) from None

    def object_body(self, what: str) -> dict:
        """The body, which must be a JSON object (``what`` names the expected shape)."""
        data = self.body()
        if not isinstance(data, dict):
            raise InputException.field("body", f"expected a JSON object: {what}")
        return data
