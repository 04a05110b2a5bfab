"""Cassandra: the reaction store (``reactions.store.ReactionStore``).

Tables (``migrations/0002_reactions.cql``, ``infra/cassandra/DESIGN.md`` "Reactions"): the truth
``reactions`` by id, one listing table per access path (by activity, by user, by parent, by
parent and user: each partition newest first, kind ``'*'`` for all kinds) and ``reaction_counts``.

Rules, as for the other roles: index rows are written before the truth and deleted after it;
listings check what an index gives against the truth (a row the truth lost is skipped). Derived
values are never incremented: a parent's ``children`` and an activity's counts are rewritten
from the exact set (a partition read, a ``COUNT(*)``) after every change, each rewrite with
``USING TIMESTAMP`` = the moment it started reading. Every change finishes its own index writes
before its rewrite starts, so the rewrite that started last has seen every finished change, and
its write wins whatever order the writes land in: counts and children are exact once the writers
are done, under concurrency and when a write is applied twice (no counters, no LWT).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from feedline.models.cursors import Range
from feedline.reactions import model
from feedline.reactions.store import ReactionRecord, ReactionStore, Scope, StoredReaction
from feedline.storage.cassandra.base import INT32_MAX, CassandraRole, chunks
from feedline.storage.cassandra.statements import reaction_range_name

ALL = "*"
#: index rows read per listing round (live rows are usually all of them)
LIST_PAGE = 64


def now_us() -> int:
    return time.time_ns() // 1000


def _stored(row: tuple) -> StoredReaction | None:
    (id_, key, kind, activity_id, user_id, parent, body, created_us, updated_us, deleted_us, targets, extra,
     children) = row
    if body is None:  # only a `children` rewrite landed after a delete: not a reaction
        return None
    rec = ReactionRecord(id_, key, kind, activity_id, user_id, parent or "", body, created_us, updated_us,
                         deleted_us or None, tuple(targets.split(",")) if targets else (), extra or b"{}")
    return StoredReaction(rec, children or model.EMPTY_CHILDREN)


class CassandraReactions(CassandraRole, ReactionStore):
    # ---- index rows of a live reaction ----------------------------------------------------------
    def _index(self, rec: ReactionRecord, put: bool) -> list[tuple[str, tuple]]:
        k = rec.key
        out: list[tuple[str, tuple]] = []
        for kind in (rec.kind, ALL):
            if put:
                out.append(("rx_user_put", (rec.user_id, kind, k, rec.id)))
            else:
                out.append(("rx_user_delete", (rec.user_id, kind, k)))
            if rec.parent:
                out.append(("rx_parent_put", (rec.parent, kind, k, rec.id, rec.kind)) if put
                           else ("rx_parent_delete", (rec.parent, kind, k)))
            else:
                out.append(("rx_activity_put", (rec.activity_id, kind, k, rec.id)) if put
                           else ("rx_activity_delete", (rec.activity_id, kind, k)))
        if rec.parent:
            out.append(("rx_parent_user_put", (rec.parent, rec.user_id, k, rec.id)) if put
                       else ("rx_parent_user_delete", (rec.parent, rec.user_id, k)))
        else:  # own reactions of enriched reads (0006)
            out.append(("rx_activity_user_put", (rec.activity_id, rec.user_id, k, rec.id)) if put
                       else ("rx_activity_user_delete", (rec.activity_id, rec.user_id, k)))
        return out

    def _truth(self, rec: ReactionRecord) -> None:
        self.session.write("reaction_put", (
            rec.id, rec.key, rec.kind, rec.activity_id, rec.user_id, rec.parent, rec.body, rec.created_us,
            rec.updated_us, rec.deleted_us or 0, ",".join(rec.target_feeds), rec.extra))

    # ---- writes -------------------------------------------------------------------------------
    def add_reaction(self, rec: ReactionRecord) -> bool:
        existing = self.get_reactions([rec.id]).get(rec.id)
        if existing is None:
            if rec.deleted_us is None:
                self.session.concurrent(self._index(rec, True))
            self._truth(rec)
            rec_now = rec
        else:
            rec_now = existing.record
        # a repeated add still refreshes: it completes an add that was interrupted after its writes
        self._refresh_after(rec_now)
        return existing is None

    def put_reaction(self, rec: ReactionRecord) -> None:
        if rec.deleted_us is None:  # live: index first, truth second
            self.session.concurrent(self._index(rec, True))
            self._truth(rec)
        else:  # leaving the listings: truth first, index second
            self._truth(rec)
            self.session.concurrent(self._index(rec, False))
        self._refresh_after(rec)

    def delete_reaction(self, reaction_id: str) -> bool:
        found = self.get_reactions([reaction_id]).get(reaction_id)
        if found is None:
            return False
        self.session.write("reaction_delete", (reaction_id,))
        self.session.concurrent(self._index(found.record, False))
        self._refresh_after(found.record)
        return True

    # ---- derived values -----------------------------------------------------------------------
    def _refresh_after(self, rec: ReactionRecord) -> None:
        if rec.parent:
            self._refresh_ancestors(rec.parent)
        else:
            self._recount(rec.activity_id, rec.kind)

    def _recount(self, activity_id: str, kind: str) -> None:
        started = now_us()
        [(n,)] = self.session.rows("rx_count", (activity_id, kind))
        self.session.write("reaction_counts_put", (activity_id, kind, int(n), started))

    def _refresh_ancestors(self, parent: str) -> None:
        seen = set()
        while parent and parent not in seen:
            seen.add(parent)
            self._refresh(parent)
            found = self.get_reactions([parent]).get(parent)
            parent = found.record.parent if found is not None else ""

    def _refresh(self, parent: str) -> None:
        started = now_us()
        counts: dict[str, int] = {}
        latest_ids: dict[str, list[str]] = {}
        for _key, id_, kind in self.session.rows("rx_parent_all", (parent,)):
            counts[kind] = counts.get(kind, 0) + 1
            ids_of_kind = latest_ids.setdefault(kind, [])
            if len(ids_of_kind) < model.LATEST_CHILDREN:
                ids_of_kind.append(id_)
        found = self.get_reactions([i for v in latest_ids.values() for i in v])
        latest = {kind: [model.reaction_bytes(s.record.body, s.children) for i in v
                         if (s := found.get(i)) is not None and s.record.deleted_us is None]
                  for kind, v in latest_ids.items()}
        self.session.write("reaction_children_put", (started, model.encode_children(latest, counts), parent))

    # ---- reads --------------------------------------------------------------------------------
    def get_reactions(self, reaction_ids: Sequence[str]) -> dict[str, StoredReaction]:
        parts = list(chunks(list(dict.fromkeys(reaction_ids))))
        if not parts:
            return {}
        if len(parts) == 1:
            rows = self.session.rows("reaction_get", (parts[0],))
        else:
            rows = [r for rs in self.session.concurrent(("reaction_get", (c,)) for c in parts) for r in rs]
        out = {}
        for row in rows:
            s = _stored(row)
            if s is not None:
                out[s.record.id] = s
        return out

    def list_reactions(self, scope: Scope, rng: Range, limit: int, ascending: bool = False) -> list[StoredReaction]:
        if limit <= 0:
            return []
        (upper, upper_incl), (lower, lower_incl) = rng.upper(), rng.lower()
        out: list[StoredReaction] = []
        while True:
            u = "" if upper is None else ("lte" if upper_incl else "lt")
            lo = "" if lower is None else ("gte" if lower_incl else "gt")
            name = reaction_range_name(scope.field, u, lo, "ASC" if ascending else "DESC")
            params: list = [scope.value, scope.kind or ALL]
            params += [b for b in (upper, lower) if b is not None]
            want = min(limit - len(out), LIST_PAGE)
            rows = self.session.rows(name, (*params, min(want, INT32_MAX)))
            found = self.get_reactions([r[1] for r in rows])
            for key, id_ in rows:
                s = found.get(id_)
                # checked against the truth: an index row the truth lost (or a stale one) is skipped
                if s is None or s.record.deleted_us is not None or s.record.key != key:
                    continue
                out.append(s)
                if len(out) == limit:
                    return out
            if len(rows) < want:
                return out
            last = rows[-1][0]
            if ascending:
                lower, lower_incl = last, False
            else:
                upper, upper_incl = last, False

    def own_children(self, parent_ids: Sequence[str], user_id: str,
                     kinds: Sequence[str] = ()) -> dict[str, list[StoredReaction]]:
        parents = [p for p in dict.fromkeys(parent_ids) if p]
        results = [list(rs.current_rows)
                   for rs in self.session.concurrent(("rx_parent_user_get", (p, user_id)) for p in parents)]
        found = self.get_reactions([r[1] for rows in results for r in rows])
        wanted = set(kinds)
        out: dict[str, list[StoredReaction]] = {}
        for parent, rows in zip(parents, results):
            for _key, id_ in rows:
                s = found.get(id_)
                if s is None or s.record.deleted_us is not None or s.record.parent != parent:
                    continue
                if not wanted or s.record.kind in wanted:
                    out.setdefault(parent, []).append(s)
        return out

    def reaction_counts(self, activity_id: str) -> dict[str, int]:
        return {kind: int(n) for kind, n in self.session.rows("reaction_counts_get", (activity_id,)) if n}

    def enrichment_rows(self, activity_ids: Sequence[str], kinds: Sequence[str] | None, latest: int,
                        own_user: str | None) -> tuple[list[tuple[str, str, int]], list[tuple]]:
        """Whatever the page size, a few requests in at most three rounds: the counts of every
        activity and the user's own reactions (multi-partition ``IN``) and, when the kinds are
        given, the latest of each (activity, kind) (``IN`` over both partition key columns with
        ``PER PARTITION LIMIT``); then the latest of the kinds the counts found (only when no kinds
        were given); then the reactions themselves by ``IN``. One request per (activity, kind) was
        ~100 requests for a page of 25 with three kinds: the client's CPU per request dominated."""
        aids = list(dict.fromkeys(activity_ids))
        if not aids:
            return [], []
        wanted = None if kinds is None else list(dict.fromkeys(kinds))
        if wanted == []:
            return [], []
        limit = min(latest, INT32_MAX)
        first: list[tuple[str, tuple]] = [("rx_counts_in", (part,)) for part in chunks(aids)]
        ncount = len(first)
        if own_user:
            first += [("rx_own_in", (part, own_user)) for part in chunks(aids)]
        nfirst = len(first)
        if latest > 0 and wanted is not None:
            first += _latest_queries(aids, wanted, limit)
        results = [list(rs) for rs in self.session.concurrent(first)]
        counts = sorted((a, k, int(n)) for rows in results[:ncount] for a, k, n in rows
                        if n and (wanted is None or k in wanted))
        own_rows = [r for rows in results[ncount:nfirst] for r in rows]
        latest_rows = [r for rows in results[nfirst:] for r in rows]
        if latest > 0 and wanted is None and counts:
            found_aids = list(dict.fromkeys(a for a, _, _ in counts))
            found_kinds = sorted({k for _, k, _ in counts})
            latest_rows = [r for rs in self.session.concurrent(_latest_queries(found_aids, found_kinds, limit))
                           for r in rs]
        found = self.get_reactions([r[-1] for r in own_rows] + [r[-1] for r in latest_rows])
        allowed = None if wanted is None else set(wanted)
        out: list[tuple] = []
        listed = [(0, a, key, id_) for a, _kind, key, id_ in latest_rows] + [(1, a, key, id_) for a, key, id_ in own_rows]
        for slot, aid, key, id_ in listed:
            s = found.get(id_)
            # checked against the truth, as listings are (a stale index row is skipped)
            if s is None or s.record.deleted_us is not None or s.record.key != key or s.record.parent:
                continue
            r = s.record
            if allowed is not None and r.kind not in allowed:
                continue
            out.append((aid, r.kind, slot, r.id, r.user_id, r.body, b"," + s.children))
        return counts, out


#: partitions one ``rx_latest_in`` request may name (the IN's cartesian product): the coordinator
#: reads them for us, so fewer, larger requests save client CPU, but not without bound
LATEST_IN_PARTITIONS = 100


def _latest_queries(aids: Sequence[str], kinds: Sequence[str], limit: int) -> list[tuple[str, tuple]]:
    """``rx_latest_in`` requests covering every (activity, kind) pair, each naming at most
    ``LATEST_IN_PARTITIONS`` partitions."""
    out: list[tuple[str, tuple]] = []
    for k0 in range(0, len(kinds), LATEST_IN_PARTITIONS):
        ks = list(kinds[k0:k0 + LATEST_IN_PARTITIONS])
        per = max(1, LATEST_IN_PARTITIONS // len(ks))
        out += [("rx_latest_in", (list(aids[i:i + per]), ks, limit)) for i in range(0, len(aids), per)]
    return out
