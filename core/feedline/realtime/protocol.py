"""The Bayeux server (the protocol Faye speaks), as pure protocol: messages in, replies out.

Transports (``local.faye`` for ``feedline dev``: WebSocket and HTTP long-polling; ``realtime.aws``:
API Gateway WebSocket APIs) parse frames, call ``Bayeux.process`` and deliver its ``Outcome``; the
clients and their subscriptions live behind ``Sessions`` (in memory locally, the subscription store
on AWS). What the Faye client expects (faye 1.4, the client stream-js uses):

- ``/meta/handshake`` -> ``clientId``, ``supportedConnectionTypes`` (the client then picks its
  transport from them: WebSocket first), ``advice``; version ``1.0``.
- ``/meta/connect`` -> answered when there are messages or after ``advice.timeout`` ms (a long-poll);
  the client waits ``1.2 x timeout`` for it, then connects again after ``advice.interval`` ms. A
  connect sent in a batch with other messages carries ``advice: {timeout: 0}``: answered at once.
  An unknown client id is answered ``401`` with ``advice.reconnect = handshake``.
- ``/meta/subscribe`` / ``/meta/unsubscribe`` -> ``subscription`` echoed; a refusal is
  ``successful: false`` with ``error`` ``"code:params:message"`` (faye's ``Error.parse``).
- ``/meta/disconnect`` -> the client is forgotten.
- Publishing from clients is refused: only the server publishes (feed changes).
"""

from __future__ import annotations

import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from feedline.realtime.access import Access, Refused

VERSION = "1.0"
HANDSHAKE, CONNECT, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT = (
    "/meta/handshake", "/meta/connect", "/meta/subscribe", "/meta/unsubscribe", "/meta/disconnect")
#: at most this many messages per request and subscriptions per message (bounded work per frame)
MAX_BATCH = 100


class Sessions(ABC):
    """Clients and their subscriptions. ``conn`` is the transport's handle of the connection the
    message came on (None for local transports, which key everything by client id)."""

    @abstractmethod
    def open(self, client_id: str, conn: Any) -> None:
        """A new client (after a handshake)."""

    @abstractmethod
    def known(self, client_id: str, conn: Any) -> bool:
        """Is ``client_id`` a live client (on ``conn``)?"""

    @abstractmethod
    def subscribe(self, client_id: str, channel: str, conn: Any) -> None: ...

    @abstractmethod
    def unsubscribe(self, client_id: str, channel: str, conn: Any) -> None: ...

    @abstractmethod
    def close(self, client_id: str, conn: Any) -> None:
        """Forget the client and its subscriptions."""


@dataclass
class Outcome:
    #: replies to send now (in order)
    replies: list[dict] = field(default_factory=list)
    #: the /meta/connect reply, if the request had one: the transport sends it when the client has
    #: messages, or after ``hold_s`` (0: now)
    connect: dict | None = None
    hold_s: float = 0.0
    #: the client id the request spoke for (the transport attaches its connection to it)
    client_id: str | None = None


#: what faye's error grammar allows in params and the message (anything else and the client sees no code)
_NOT_IN_ERRORS = re.compile(r"[^A-Za-z0-9\-_!~()$@ /*.]")


def error(code: int, params: str, text: str) -> str:
    """Faye's error string ``code:param:message``, in the characters its grammar accepts."""
    return f"{code}:{_NOT_IN_ERRORS.sub('', params)}:{_NOT_IN_ERRORS.sub('', text.replace(': ', ' - '))}"


class Bayeux:
    def __init__(self, access: Access, sessions: Sessions, *, timeout_s: float = 30.0, interval_s: float = 0.0,
                 hold_connect: bool = True, connection_types: tuple[str, ...] = ("long-polling", "websocket"),
                 new_id: Callable[[], str] = lambda: secrets.token_hex(16)):
        self.access = access
        self.sessions = sessions
        self.timeout_s = timeout_s
        self.interval_s = interval_s
        #: False on transports that cannot hold a reply (API Gateway + Lambda): connect is answered
        #: at once and ``interval`` paces the client instead
        self.hold_connect = hold_connect
        self.connection_types = connection_types
        self.new_id = new_id

    @property
    def advice(self) -> dict:
        return {"reconnect": "retry", "interval": int(self.interval_s * 1000), "timeout": int(self.timeout_s * 1000)}

    def process(self, messages: object, conn: Any = None) -> Outcome:
        out = Outcome()
        if isinstance(messages, dict):
            messages = [messages]
        if not isinstance(messages, list) or len(messages) > MAX_BATCH:
            out.replies.append({"channel": "/meta/unknown", "successful": False,
                                "error": error(400, "", f"expected a JSON array of at most {MAX_BATCH} messages")})
            return out
        for msg in messages:
            self._one(msg, conn, out)
        return out

    def _one(self, msg: object, conn: Any, out: Outcome) -> None:
        if not isinstance(msg, dict) or not isinstance(msg.get("channel"), str):
            out.replies.append({"channel": "/meta/unknown", "successful": False,
                                "error": error(400, "", "a message is an object with a channel")})
            return
        channel = msg["channel"]
        reply: dict[str, Any] = {"channel": channel}
        if isinstance(msg.get("id"), (str, int)):
            reply["id"] = msg["id"]
        if channel == HANDSHAKE:
            self._handshake(msg, conn, reply, out)
            out.replies.append(reply)
            return
        client_id = msg.get("clientId")
        if not channel.startswith("/meta/") or channel.startswith("/meta/*"):
            reply.update(successful=False, error=error(403, channel, "only the server publishes"))
        elif not isinstance(client_id, str) or not self.sessions.known(client_id, conn):
            reply.update(successful=False, error=error(401, str(client_id), "Unknown client"),
                         advice={"reconnect": "handshake", "interval": 0})
        elif channel == CONNECT:
            out.client_id = client_id
            reply.update(successful=True, clientId=client_id, advice=self.advice)
            advice = msg.get("advice")
            now = isinstance(advice, dict) and advice.get("timeout") == 0
            if out.connect is not None:  # two connects in one request: the first is answered now
                out.replies.append(out.connect)
            out.connect, out.hold_s = reply, (0.0 if now or not self.hold_connect else self.timeout_s)
            return
        elif channel in (SUBSCRIBE, UNSUBSCRIBE):
            out.client_id = client_id
            self._subscription(channel, client_id, msg, conn, reply)
        elif channel == DISCONNECT:
            self.sessions.close(client_id, conn)
            reply.update(successful=True, clientId=client_id)
        else:
            reply.update(successful=False, error=error(404, channel, "Unknown meta channel"))
        out.replies.append(reply)

    def _handshake(self, msg: dict, conn: Any, reply: dict, out: Outcome) -> None:
        reply["version"] = VERSION
        reply["supportedConnectionTypes"] = list(self.connection_types)
        offered = msg.get("supportedConnectionTypes")
        if not isinstance(offered, list) or not set(offered) & set(self.connection_types):
            reply.update(successful=False, error=error(301, ",".join(self.connection_types),
                                                       "Connection types not supported"))
            return
        client_id = self.new_id()
        self.sessions.open(client_id, conn)
        out.client_id = client_id
        reply.update(successful=True, clientId=client_id, advice=self.advice)

    def _subscription(self, channel: str, client_id: str, msg: dict, conn: Any, reply: dict) -> None:
        wanted = msg.get("subscription")
        reply["clientId"] = client_id
        reply["subscription"] = wanted
        raw = wanted if isinstance(wanted, list) else [wanted]
        names = [n for n in raw if isinstance(n, str)]
        if not names or len(names) != len(raw) or len(names) > MAX_BATCH:
            reply.update(successful=False, error=error(405, "", "subscription must name channels"))
            return
        if channel == UNSUBSCRIBE:
            for name in names:
                self.sessions.unsubscribe(client_id, name, conn)
            reply["successful"] = True
            return
        try:
            for name in names:
                self.access.check(name, msg.get("ext"))
        except Refused as exc:
            reply.update(successful=False, error=error(exc.code, str(names[0]), exc.detail))
            return
        for name in names:
            self.sessions.subscribe(client_id, name, conn)
        reply["successful"] = True
