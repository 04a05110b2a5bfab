"""HTTP routes of the analytics room (spec §2.10): served under ``/analytics/v1.0/``, the path
stream-python builds for ``service_name="analytics"`` (``http://localhost:PORT/analytics/v1.0/``
with a localhost ``base_url``; ``analytics.<domain>`` otherwise: see docs)."""

from __future__ import annotations

from feedline.api import responses
from feedline.api.request import Request
from feedline.api.routes import Routes
from feedline.errors import NotAllowedException

write = Routes()


def _track(req: Request, kind: str) -> responses.Reply:
    who = req.caller("analytics", "write")
    svc = req.rt.analytics
    events = svc.validate(kind, req.body())
    if who.is_user:
        # a user token reports its own events only (stream-python sends server tokens)
        for e in events:
            if e.user_id != who.user_id:
                raise NotAllowedException(f"user {who.user_id!r} may not report events of {e.user_id!r}")
    svc.track(events)
    return responses.obj(None, req.duration())


@write.post("/analytics/v1.0/engagement/")
def engagement(req: Request) -> responses.Reply:
    return _track(req, "engagement")


@write.post("/analytics/v1.0/impression/")
def impression(req: Request) -> responses.Reply:
    return _track(req, "impression")
