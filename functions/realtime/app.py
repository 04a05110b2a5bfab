"""Realtime function: Bayeux (the Faye protocol of stream-js's ``feed.subscribe()``).

- the routes of the API Gateway WebSocket API: ``$connect``, ``$default`` (Bayeux frames) and
  ``$disconnect``;
- ``POST /faye`` on the HTTP API: the handshake stock Faye clients send over HTTP before they open
  the WebSocket.

Subscriptions live in the project's store (``feedline.realtime.aws``).
"""

from __future__ import annotations

from typing import Any

from feedline import runtime
from feedline.realtime.aws import bayeux_for, handle_http_event, handle_websocket_event

_bayeux: dict[int, Any] = {}


def lambda_handler(event: dict, context: Any) -> dict:
    rt = runtime.get()
    bayeux = _bayeux.get(id(rt))
    if bayeux is None:
        bayeux = _bayeux[id(rt)] = bayeux_for(rt.settings.app, rt.stores.realtime)
    if "http" in (event.get("requestContext") or {}):  # an HTTP API event (payload format 2.0)
        return handle_http_event(event, bayeux)
    return handle_websocket_event(event, bayeux, rt.stores.realtime)
