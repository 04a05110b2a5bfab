"""Read function: the GET routes of /api/v1.0, one route list per concept.

The feed page is assembled from stored activity bytes: activities are never decoded and
re-encoded on this path (``feeds.flat``, ``feeds.grouped``).
"""

from __future__ import annotations

from feedline import runtime
from feedline.activities import routes as activities
from feedline.api.app import Api
from feedline.collections import routes as collections
from feedline.enrichment import routes as enrichment
from feedline.feeds import routes as feeds
from feedline.follows import routes as follows
from feedline.media import routes as media
from feedline.og import routes as og
from feedline.reactions import routes as reactions
from feedline.users import routes as users

lambda_handler = Api("read", feeds.read, activities.read, follows.read, reactions.read, users.read,
                     collections.read, enrichment.read, og.read, media.read, runtime=runtime.get)
