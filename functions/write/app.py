"""Write function: the POST, PUT and DELETE routes of /api/v1.0 (and the analytics events of
/analytics/v1.0), one route list per concept."""

from __future__ import annotations

from feedline import runtime
from feedline.activities import routes as activities
from feedline.analytics import routes as analytics
from feedline.api.app import Api
from feedline.collections import routes as collections
from feedline.feeds import routes as feeds
from feedline.feeds.factory import check_formats
from feedline.follows import routes as follows
from feedline.media import routes as media
from feedline.reactions import routes as reactions
from feedline.runtime import Runtime
from feedline.users import routes as users


def _cold_start(rt: Runtime) -> None:
    # an invalid aggregation format fails the write side's cold start, loudly
    check_formats(rt.settings.app)


lambda_handler = Api("write", activities.write, follows.write, feeds.write, reactions.write, users.write,
                     collections.write, analytics.write, media.write, runtime=runtime.get, on_cold_start=_cold_start)
