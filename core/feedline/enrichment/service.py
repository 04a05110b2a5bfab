"""The enrichment service: feed pages and activities with their references resolved and their
reaction data attached (docs/api.md §13), written from stored bytes.

Storage round trips per enriched page, whatever its size: the plain page read (which also
returns each activity's stored reference offsets: no extra trip), then one batched look-up per
reference type present (users — together with the users of the page's reactions —, collection
items, activities, reactions) and one for the page's reaction data (counts, latest per kind, own).
A typical page (``SU:`` actors, ``SO:`` objects, reaction options) makes 3 beyond the plain read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from feedline.enrichment import page as twin
from feedline.enrichment.assemble import Fetcher, Options, enrichment
from feedline.feeds.base import Page, ReadQuery
from feedline.feeds.flat import FlatPage
from feedline.feeds.grouped import GroupedPage
from feedline.feeds.service import FeedService
from feedline.models import ids
from feedline.models.cursors import Cursor, OffsetCursor
from feedline.serialization import encode_origin, json_bytes
from feedline.stores import Stores

NO_ORIGIN = b',"origin":null'


class StoreFetcher(Fetcher):
    """The batched look-ups, on the stores; counts its store calls (``trips``)."""

    def __init__(self, stores: Stores):
        self.stores = stores
        self.trips = 0

    def users(self, user_ids: list[str]) -> dict[str, bytes]:
        self.trips += 1
        return {u: r.body for u, r in self.stores.users.get_users(user_ids).items()}

    def items(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
        by_name: dict[str, list[str]] = {}
        for name, item in keys:
            by_name.setdefault(name, []).append(item)
        out: dict[tuple[str, str], bytes] = {}
        for name, item_ids in by_name.items():  # one call per collection named on the page
            self.trips += 1
            out.update({(name, i): r.body for i, r in self.stores.collections.get_items(name, item_ids).items()})
        return out

    def activities(self, activity_ids: list[str]) -> dict[str, bytes]:
        keys = {}
        for a in activity_ids:
            try:
                keys[ids.uuid_to_key(a)] = a
            except ValueError:
                continue  # not an activity id: not found
        if not keys:
            return {}
        self.trips += 1
        # as GET /activities/ answers (docs/api.md §6.1): the stored body with "origin": null
        return {keys[k]: b[:-1] + NO_ORIGIN + b"}" for k, b in self.stores.activities.get_bodies(list(keys)).items()}

    def reactions(self, reaction_ids: list[str]) -> dict[str, bytes]:
        from feedline.reactions.model import reaction_bytes

        self.trips += 1
        found = self.stores.reactions.get_reactions(reaction_ids)
        return {i: reaction_bytes(s.record.body, s.children) for i, s in found.items() if s.record.deleted_us is None}

    def page_reactions(self, activity_ids: list[str], opts: Options) -> tuple[list[tuple], list[tuple]]:
        self.trips += 1
        counts, rows = self.stores.reactions.enrichment_rows(
            activity_ids, opts.kinds, opts.limit if opts.latest else 0, opts.user_id if opts.own else None)
        if opts.own_children and opts.user_id and rows:
            rows = self._with_own_children(rows, opts)
        return counts, rows

    def _with_own_children(self, rows: list[tuple], opts: Options) -> list[tuple]:
        """``withOwnChildren``: each reaction shown gets ``own_children`` (kind -> the user's
        child reactions, as ``GET /reaction/reaction_id/...`` lists them), one batched call."""
        from feedline.reactions.model import reaction_bytes

        self.trips += 1
        found = self.stores.reactions.own_children(list(dict.fromkeys(r[3] for r in rows)), opts.user_id or "",
                                                   opts.own_children_kinds)
        encoded: dict[str, bytes] = {}
        for parent, children in found.items():
            groups: dict[str, list[bytes]] = {}
            for s in children:
                groups.setdefault(s.record.kind, []).append(reaction_bytes(s.record.body, s.children))
            encoded[parent] = b"{" + b",".join(json_bytes(k) + b":[" + b",".join(groups[k]) + b"]"
                                               for k in sorted(groups)) + b"}"
        return [r[:6] + (r[6] + b',"own_children":' + encoded.get(r[3], b"{}"),) for r in rows]


@dataclass(slots=True)
class EnrichedPage:
    """An enriched feed page: assembled like the plain one, with the enrichment spliced in."""

    inner: Page
    resolved: dict[bytes, bytes]
    #: per activity of the page, in page order (flat: rows; grouped: ``bodies``), or None
    tails: list[bytes] | None
    cursor: Cursor | OffsetCursor | None
    trips: int

    def assemble(self, next_link: str, duration: str) -> bytes:
        inner = self.inner
        if isinstance(inner, FlatPage):
            rows = inner.rows
            cache: dict[str | None, bytes] = {}
            origins = [cache.get(r[2]) or cache.setdefault(r[2], encode_origin(r[2])) for r in rows]
            return twin.enrich_page([r[1] for r in rows], [r[3] for r in rows], origins, self.resolved, self.tails,
                                    next_link, duration)
        if not isinstance(inner, GroupedPage):
            raise TypeError(f"no enriched assembly for {type(inner).__name__}")
        keys = list(inner.bodies)
        refs = inner.refs or {}
        bodies = twin.enrich_bodies(list(inner.bodies.values()), [refs.get(k) for k in keys], self.resolved,
                                    self.tails)
        return dataclasses.replace(inner, bodies=dict(zip(keys, bodies))).assemble(next_link, duration)


class EnrichmentService:
    def __init__(self, stores: Stores, feeds: FeedService):
        self.stores = stores
        self.feeds = feeds

    def _enrich(self, keys: Sequence[bytes], bodies: list[bytes], refs: list[bytes | None],
                opts: Options) -> tuple[dict[bytes, bytes], list[bytes] | None, int]:
        """``(resolved, tails in the order of keys, store calls made)``."""
        fetch = StoreFetcher(self.stores)
        activity_ids = list(map(ids.key_to_uuid, keys))
        resolved, tails = enrichment(twin, bodies, refs, activity_ids, fetch, opts)
        return resolved, tails, fetch.trips

    def read_feed(self, fid: str, q: ReadQuery, opts: Options) -> EnrichedPage:
        """One enriched page of ``fid`` (any feed kind): the plain read's paging, marks and counters."""
        page = self.feeds.read(fid, dataclasses.replace(q, with_refs=True))
        if isinstance(page, FlatPage):
            keys = [r[0] for r in page.rows]
            bodies = [r[1] for r in page.rows]
            refs = [r[3] for r in page.rows]
        elif isinstance(page, GroupedPage):
            keys = list(page.bodies)
            bodies = list(page.bodies.values())
            page_refs = page.refs or {}
            refs = [page_refs.get(k) for k in keys]
        else:
            raise TypeError(f"no enriched read for {type(page).__name__}")
        resolved, tails, trips = self._enrich(keys, bodies, refs, opts)
        return EnrichedPage(page, resolved, tails, page.cursor, trips)

    def activities(self, keys: Sequence[bytes], opts: Options) -> list[bytes]:
        """Enriched activities of the known ids, in the order asked (docs/api.md §6.1 + §13)."""
        found = self.stores.activities.get_bodies_refs(keys)
        keys = [k for k in dict.fromkeys(keys) if k in found]
        bodies = [found[k][0] for k in keys]
        refs = [found[k][1] for k in keys]
        resolved, tails, _ = self._enrich(keys, bodies, refs, opts)
        ends = [NO_ORIGIN + t for t in tails] if tails is not None else [NO_ORIGIN] * len(keys)
        return twin.enrich_bodies(bodies, refs, resolved, ends)
