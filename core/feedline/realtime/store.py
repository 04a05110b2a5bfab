"""Store contract of the realtime room (AWS path): WebSocket connections and their subscriptions.

API Gateway holds the sockets; the Realtime function (``$connect``, ``$default``, ``$disconnect``)
records here which Bayeux client each connection is and which channels it subscribed to, and the
write and fan-out functions look up the connections of a channel to push to them. Rows expire by
TTL (a connection API Gateway closed without a ``$disconnect``, or a function that died half-way,
leaves nothing behind for longer than ``ttl_s``); a push to a gone connection drops it at once.

Bound to every backend by ``tests/contract/realtime_store_contract.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence


class SubscriptionStore(ABC):
    @abstractmethod
    def open_connection(self, connection_id: str, client_id: str, ttl_s: int) -> None:
        """Record (or replace) a connection and the Bayeux client id it speaks for ('' before a handshake)."""

    @abstractmethod
    def client_of(self, connection_id: str) -> str | None:
        """The client id recorded for a live connection ('' before a handshake), None if unknown or expired."""

    @abstractmethod
    def subscribe(self, connection_id: str, channel: str, ttl_s: int) -> None: ...

    @abstractmethod
    def unsubscribe(self, connection_id: str, channel: str) -> None: ...

    @abstractmethod
    def subscribers(self, channels: Sequence[str]) -> dict[str, list[str]]:
        """Live connection ids per channel, for the channels that have any."""

    @abstractmethod
    def drop(self, connection_id: str) -> None:
        """Forget a connection and all its subscriptions."""
