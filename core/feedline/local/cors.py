"""CORS as API Gateway's HTTP API applies a ``CorsConfiguration`` (AWS guide: "Configure CORS for HTTP APIs").

What API Gateway does, and so what the runner does:
- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered by
  the gateway itself, whatever the routes, with ``204`` and the configured allow-lists; an origin
  outside ``AllowOrigins`` gets the ``204`` without CORS headers, so the browser refuses;
- any other request with an allowed ``Origin`` gets ``Access-Control-Allow-Origin`` (and
  ``-Expose-Headers`` / ``-Allow-Credentials`` when configured) on the function's response;
- CORS headers a function returns itself are dropped: the configuration is the only source.

``AllowOrigins`` entries are exact origins, ``*`` (any), or ``https://*`` / ``http://*`` (any
origin of that scheme), the forms API Gateway accepts.
"""

from __future__ import annotations

from feedline.local.template import Cors

Headers = dict[str, str]


def origin_allowed(cors: Cors, origin: str) -> bool:
    origin = origin.lower()
    for allowed in cors.allow_origins:
        allowed = allowed.lower()
        if allowed == "*" or allowed == origin:
            return True
        if allowed in ("https://*", "http://*") and origin.startswith(allowed[:-1]):
            return True
    return False


def _allow_origin(cors: Cors, origin: str) -> Headers:
    # "*" cannot be combined with credentials (browsers refuse it): then the origin is echoed
    if "*" in cors.allow_origins and not cors.allow_credentials:
        out = {"access-control-allow-origin": "*"}
    else:
        out = {"access-control-allow-origin": origin, "vary": "Origin"}
    if cors.allow_credentials:
        out["access-control-allow-credentials"] = "true"
    return out


def is_preflight(method: str, headers: Headers) -> bool:
    """``headers`` have lower-case names."""
    return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


def preflight(cors: Cors, headers: Headers) -> tuple[int, Headers, bytes]:
    origin = headers["origin"]
    if not origin_allowed(cors, origin):
        return 204, {}, b""
    out = _allow_origin(cors, origin)
    if cors.allow_methods:
        out["access-control-allow-methods"] = ",".join(cors.allow_methods)
    if cors.allow_headers:
        out["access-control-allow-headers"] = ",".join(h.lower() for h in cors.allow_headers)
    if cors.max_age is not None:
        out["access-control-max-age"] = str(cors.max_age)
    return 204, out, b""


def apply(cors: Cors, request_headers: Headers, response_headers: Headers) -> Headers:
    """The function's response headers with the configured CORS headers in place of its own."""
    out = {k: v for k, v in response_headers.items() if not k.lower().startswith("access-control-")}
    origin = request_headers.get("origin")
    if origin is None or not origin_allowed(cors, origin):
        return out
    out.update(_allow_origin(cors, origin))
    if cors.expose_headers:
        out["access-control-expose-headers"] = ",".join(h.lower() for h in cors.expose_headers)
    return out
