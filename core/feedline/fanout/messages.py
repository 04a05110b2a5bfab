"""Fan-out messages: small JSON documents with ids and a version tag.

``{"v": 1, "op": "add", "activity": "<uuid>", "source": "user:1"}`` copies the activity into every
follower of ``source`` (origin = source). ``"after"`` and ``"limit"`` select one chunk of
followers, so a large audience is split into messages that run in parallel.
``{"v": 1, "op": "remove", ...}`` removes the copies made from ``source``.
``{"v": 1, "op": "refresh", "activity": "<uuid>", "source": "", "after": "<feed>"}`` rewrites the
body copies that timelines keep of an updated activity (backends that keep copies; a no-op on the
others), in the feeds after ``after`` of its reverse index; with ``limit``, one chunk of them.
The worker reads the body and its version from storage, so a late or repeated refresh never
brings back an old body.

The activity itself is never in the message: the worker reads it from storage, so a message that
arrives after the activity was removed does nothing (no resurrection).
"""

from __future__ import annotations

from dataclasses import dataclass

import ujson

VERSION = 1
OPS = ("add", "remove", "refresh")


class BadMessage(ValueError):
    """A message that can never succeed (wrong version, shape): poison, not retried forever."""


@dataclass(frozen=True, slots=True)
class FanoutMessage:
    op: str
    activity: str
    source: str
    after: str | None = None
    limit: int | None = None

    def to_json(self) -> str:
        data: dict = {"v": VERSION, "op": self.op, "activity": self.activity, "source": self.source}
        if self.after is not None:
            data["after"] = self.after
        if self.limit is not None:
            data["limit"] = self.limit
        return ujson.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> FanoutMessage:
        try:
            data = ujson.loads(text)
        except ValueError as exc:
            raise BadMessage(f"not JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise BadMessage(f"unsupported message version: {data.get('v') if isinstance(data, dict) else data!r}")
        op, act, src = data.get("op"), data.get("activity"), data.get("source")
        if op not in OPS or not isinstance(act, str) or not isinstance(src, str):
            raise BadMessage("message needs op, activity and source")
        after, limit = data.get("after"), data.get("limit")
        if after is not None and not isinstance(after, str):
            raise BadMessage("after must be a string")
        if limit is not None and (not isinstance(limit, int) or limit <= 0):
            raise BadMessage("limit must be a positive integer")
        return cls(op, act, src, after, limit)
