"""Ranked reads of flat feeds (``?ranking=<name>``, docs/ranking.md and docs/api.md §8).

Start-up: ``Rankings(app)`` compiles every flat group's ranking methods once (a bad one is a
``FeedConfigException`` naming the group and the method: the stack does not start) and fixes the
app's one ``FieldLayout``: the union of every method's fields. The write path stores each
activity's field blob (``Rankings.extract``) beside its body in the activity store, once per
activity whichever ranked feeds it reaches, and rewrites it with the body on every update, so a
ranked read never sees a stale ``likes``.

Read: one store call for the window (keys, origins, blobs; no bodies), the compiled ranking over
the blobs' columns, then the bodies of the page's rows alone, spliced with ``score``. Rows whose
blob is missing or from another layout (a method added after the data was written) are read from
their stored bodies by the byte scanner instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence

from feedline.config import AppConfig, FeedGroup
from feedline.errors import FeedConfigException, MissingRankingException, RankingException
from feedline.feeds.base import RankedQuery, ReadQuery
from feedline.feeds.store import PageRow
from feedline.models.cursors import OffsetCursor
from feedline.ranking import Columns, FieldLayout, RankingConfigError, RankingMethod, parse_methods, rank, with_score
from feedline.stores import Stores


class Rankings:
    """The app's ranking methods by flat group (compiled once per cold start) and its field layout."""

    __slots__ = ("groups", "layout")

    def __init__(self, app: AppConfig):
        self.groups: dict[str, dict[str, RankingMethod]] = {}
        for g in app.groups.values():
            if g.ranking is None:
                continue
            try:
                self.groups[g.name] = parse_methods(g.name, g.ranking)
            except RankingConfigError as exc:
                raise FeedConfigException(str(exc)) from None
        #: one layout for the app: an activity is stored once, whichever ranked feeds it reaches
        self.layout = FieldLayout.of(m for methods in self.groups.values() for m in methods.values())

    def methods(self, group: str) -> Mapping[str, RankingMethod]:
        return self.groups.get(group, {})

    def extract(self, body: bytes) -> bytes:
        """Write time: the field blob stored with an activity's body (the layout's tag alone when
        the app ranks nothing, so a later method knows the blob is not its own)."""
        layout = self.layout
        return layout.tag if not layout.fields else layout.extract(body)


def _columns(layout: FieldLayout, stores: Stores, keys: Sequence[bytes], blobs: Sequence[bytes | None]) -> Columns:
    """The window's columns from its blobs; rows without a blob of this layout from their bodies."""
    try:
        return layout.columns(blobs)
    except ValueError:
        pass  # some rows' blobs are missing or from another layout: fetch only those bodies
    rb, tag = layout.row_bytes, layout.tag
    stale = [k for k, b in zip(keys, blobs) if b is None or len(b) != rb or not b.startswith(tag)]
    found = stores.activities.get_bodies(stale)
    # a body gone meanwhile (a removal propagating) scores with defaults; the page skips it
    bodies = [found.get(k, b"{}") for k in keys]
    if len(stale) == len(keys):
        return layout.scan(bodies)
    return layout.columns(blobs, bodies)


def _next_params(rq: RankedQuery) -> tuple[tuple[str, str], ...]:
    params = [("ranking", rq.method)]
    if rq.variables_text is not None:
        params.append(("ranking_vars", rq.variables_text))
    if rq.session:
        params.append(("session", rq.session))
    if rq.with_vars:
        params.append(("withScoreVars", "true"))
    return tuple(params)


def read_ranked(rankings: Rankings, group: FeedGroup, stores: Stores, fid: str, q: ReadQuery,
                rq: RankedQuery) -> tuple[list[PageRow], OffsetCursor | None]:
    """One ranked page of ``fid`` (``rq`` is ``q.ranked``): rows ``(key, body with score, origin)``
    best first (plus the body's reference offsets with ``q.with_refs``: an enriched read), and the cursor of the next page (same method and variables, next offset)."""
    method = rankings.methods(group.name).get(rq.method)
    if method is None:
        raise MissingRankingException(f"the ranking method {rq.method!r} is not configured for {group.name!r}")
    keys, origins, blobs = stores.timelines.read_ranked_window(fid, group.rank_window)
    if q.limit <= 0 or q.offset >= len(keys):
        return [], None
    try:
        cols = _columns(rankings.layout, stores, keys, blobs)
        ranked = rank(method, cols, offset=q.offset, limit=q.limit + 1, now=time.time(), ranking_vars=rq.variables,
                      session=rq.session, rowids=b"".join(keys) if method.uses_rand else None,
                      with_vars=rq.with_vars)
    except (ValueError, TypeError) as exc:
        raise RankingException(f"ranking {rq.method!r} of {fid!r} failed: {exc}") from None
    more = len(ranked.indices) > q.limit
    page = ranked.indices[:q.limit]
    wanted = [keys[i] for i in page]
    # an enriched read also takes each body's reference offsets: `score` is spliced in before the
    # closing brace, after every reference, so the offsets still hold in the scored body
    refs: dict[bytes, bytes | None] = {}
    if q.with_refs:
        found, refs = stores.activities.bodies_and_refs(wanted)
    else:
        found = stores.activities.get_bodies(wanted)
    variables: Iterator = iter(ranked.score_vars) if ranked.score_vars is not None else iter(())
    rows: list[PageRow] = []
    for i, score in zip(page, ranked.scores):
        v = next(variables, None)
        key = keys[i]
        body = found.get(key)
        if body is None:  # removed since the window was read
            continue
        row = (key, with_score(body, score, v), origins[i])
        rows.append((*row, refs.get(key)) if q.with_refs else row)
    return rows, (OffsetCursor(q.offset + q.limit, q.limit, _next_params(rq)) if more else None)
