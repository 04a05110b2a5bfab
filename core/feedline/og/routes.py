"""HTTP route of the Open Graph room (spec §2.12): ``GET /og/?url=``.

Any valid token may ask (a server token's scope must allow ``read`` on ``og``; user tokens may,
as the UI kit previews links from the browser with the user's token).
"""

from __future__ import annotations

from feedline.api import responses
from feedline.api.request import Request
from feedline.api.routes import Routes
from feedline.errors import InputException

read = Routes()


@read.get("/api/v1.0/og/")
def open_graph(req: Request) -> responses.Reply:
    req.caller("og", "read")
    url = req.query.get("url")
    if not url:
        raise InputException.field("url", "required: the http(s) URL of the page to read")
    return responses.obj(req.rt.og.scrape(url), req.duration())
