"""``feedline dev``'s realtime hub: Bayeux sessions in memory, and the publisher of this process.

The function invocations of the local stack (worker threads) publish here; the Faye transports
(``local.faye``, on an asyncio loop) attach a ``notify`` callback to a client while they can deliver
to it (an open WebSocket, a held long-poll). A publish encodes each feed change once
(``messages.encode``), appends the same bytes to every subscriber's outbox under one lock, and
calls the attached callbacks after releasing it: 1,000 subscribers cost one build and 1,000 list
appends, not 1,000 encodes.

Clients that stop polling (a closed tab) are forgotten after ``expire_s`` without a request;
an outbox longer than ``max_outbox`` drops its oldest messages (a client that stopped reading).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from feedline.realtime.channels import channel_of
from feedline.realtime.messages import FeedChange, encode
from feedline.realtime.protocol import Sessions
from feedline.realtime.publisher import Publisher

log = logging.getLogger("feedline.realtime")

Notify = Callable[[], None]


class LocalClient:
    __slots__ = ("id", "channels", "outbox", "notify", "seen")

    def __init__(self, client_id: str, now: float, max_outbox: int):
        self.id = client_id
        self.channels: set[str] = set()
        self.outbox: deque[bytes] = deque(maxlen=max_outbox)
        self.notify: Notify | None = None
        self.seen = now


class Hub(Sessions, Publisher):
    def __init__(self, app_id: str, *, expire_s: float = 90.0, max_outbox: int = 1000,
                 clock: Callable[[], float] = time.monotonic):
        self.app_id = app_id
        self.expire_s = expire_s
        self.max_outbox = max_outbox
        self.clock = clock
        self.lock = threading.Lock()
        self.clients: dict[str, LocalClient] = {}
        self.channels: dict[str, set[LocalClient]] = {}

    # ---- Sessions (called by the protocol) ---------------------------------------------------
    def open(self, client_id: str, conn: Any) -> None:
        now = self.clock()
        with self.lock:
            self._sweep(now)
            self.clients[client_id] = LocalClient(client_id, now, self.max_outbox)

    def known(self, client_id: str, conn: Any) -> bool:
        with self.lock:
            client = self.clients.get(client_id)
            if client is not None:
                client.seen = self.clock()
            return client is not None

    def subscribe(self, client_id: str, channel: str, conn: Any) -> None:
        with self.lock:
            client = self.clients.get(client_id)
            if client is not None:
                client.channels.add(channel)
                self.channels.setdefault(channel, set()).add(client)

    def unsubscribe(self, client_id: str, channel: str, conn: Any) -> None:
        with self.lock:
            client = self.clients.get(client_id)
            if client is not None:
                client.channels.discard(channel)
                self._leave(client, channel)

    def close(self, client_id: str, conn: Any) -> None:
        with self.lock:
            client = self.clients.pop(client_id, None)
            if client is None:
                return
            for channel in client.channels:
                self._leave(client, channel)
            notify = client.notify
        if notify is not None:  # a held long-poll returns now
            notify()

    def _leave(self, client: LocalClient, channel: str) -> None:
        members = self.channels.get(channel)
        if members is not None:
            members.discard(client)
            if not members:
                del self.channels[channel]

    def _sweep(self, now: float) -> None:
        stale = [c for c in self.clients.values() if c.notify is None and now - c.seen > self.expire_s]
        for client in stale:
            del self.clients[client.id]
            for channel in client.channels:
                self._leave(client, channel)

    # ---- the transports ----------------------------------------------------------------------
    def attach(self, client_id: str, notify: Notify) -> bool:
        """Call ``notify`` whenever the client has messages (until ``detach``); True if it has some now."""
        with self.lock:
            client = self.clients.get(client_id)
            if client is None:
                return False
            client.notify = notify
            client.seen = self.clock()
            return bool(client.outbox)

    def detach(self, client_id: str, notify: Notify) -> None:
        with self.lock:
            client = self.clients.get(client_id)
            if client is not None and client.notify is notify:
                client.notify = None
                client.seen = self.clock()

    def drain(self, client_id: str) -> list[bytes]:
        """The client's pending messages (encoded), oldest first."""
        with self.lock:
            client = self.clients.get(client_id)
            if client is None or not client.outbox:
                return []
            out = list(client.outbox)
            client.outbox.clear()
            return out

    def subscribers(self, channel: str) -> int:
        with self.lock:
            return len(self.channels.get(channel, ()))

    # ---- Publisher (called by the feeds service, from any thread) -----------------------------
    def watched(self, feeds: Sequence[str]) -> set[str]:
        channels = self.channels  # a dict lookup is atomic: no lock needed to peek
        return {fid for fid in feeds if channels.get(channel_of(self.app_id, fid))}

    def publish(self, changes: Sequence[FeedChange]) -> None:
        notify: dict[int, Notify] = {}
        for change in changes:
            channel, message = encode(self.app_id, change)
            with self.lock:
                for client in self.channels.get(channel, ()):
                    if len(client.outbox) == self.max_outbox:
                        log.warning("realtime: client %s is not reading; its oldest message is dropped", client.id)
                    client.outbox.append(message)
                    if client.notify is not None:
                        notify[id(client)] = client.notify
        for fn in notify.values():
            try:
                fn()
            except Exception:  # a transport's loop is closing: the client is gone with it
                log.debug("realtime: notify failed", exc_info=True)
