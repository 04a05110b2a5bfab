"""SQLite: the reaction store (``reactions.store.ReactionStore``).

Every change runs in one ``BEGIN IMMEDIATE`` transaction together with the refresh of what it
affects (the ``children`` of the parent and of each ancestor), so two writers — two threads, or
two processes on one file — never interleave a read-modify-write: children stay exact. Activity
counts are a ``COUNT(*)`` over the ``(activity_id, kind, key)`` index at read time: exact by
construction.
"""

from __future__ import annotations

from collections.abc import Sequence

from feedline.models.cursors import Range
from feedline.reactions import model
from feedline.reactions.store import ACTIVITY, PARENT, USER, ReactionRecord, ReactionStore, Scope, StoredReaction
from feedline.storage.sqlite.db import SQLiteDB

#: target feeds are stored comma-joined: feed ids (``[\w-]+:[\w-]+``) hold no comma, and a listing
#: splits 25 short strings faster than it decodes 25 JSON arrays
COLUMNS = ("id, key, kind, activity_id, user_id, parent, body, created_us, updated_us, deleted_us, "
           "target_feeds, extra, children")
#: a scope's WHERE clause: activity listings are of top-level reactions only
_SCOPE = {ACTIVITY: "activity_id = ? AND parent = ''", USER: "user_id = ?", PARENT: "parent = ?"}


def _row(r: tuple) -> StoredReaction:
    rec = ReactionRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
                         tuple(r[10].split(",")) if r[10] else (), r[11])
    return StoredReaction(rec, r[12] or model.EMPTY_CHILDREN)


def _values(rec: ReactionRecord) -> tuple:
    return (rec.id, rec.key, rec.kind, rec.activity_id, rec.user_id, rec.parent, rec.body, rec.created_us,
            rec.updated_us, rec.deleted_us, ",".join(rec.target_feeds), rec.extra)


class SQLiteReactions(ReactionStore):
    def __init__(self, db: SQLiteDB):
        self.db = db

    # ---- writes -------------------------------------------------------------------------------
    def add_reaction(self, rec: ReactionRecord) -> bool:
        with self.db.transaction() as conn:
            added = conn.execute(
                "INSERT INTO reactions (id, key, kind, activity_id, user_id, parent, body, created_us, updated_us, "
                "deleted_us, target_feeds, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING", _values(rec)).rowcount == 1
            self._refresh_ancestors(conn, rec.parent)
        return added

    def put_reaction(self, rec: ReactionRecord) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE reactions SET body = ?, updated_us = ?, deleted_us = ?, target_feeds = ?, extra = ? "
                "WHERE id = ?",
                (rec.body, rec.updated_us, rec.deleted_us, ",".join(rec.target_feeds), rec.extra, rec.id))
            self._refresh_ancestors(conn, rec.parent)

    def delete_reaction(self, reaction_id: str) -> bool:
        with self.db.transaction() as conn:
            found = conn.execute("SELECT parent FROM reactions WHERE id = ?", (reaction_id,)).fetchone()
            if found is None:
                return False
            conn.execute("DELETE FROM reactions WHERE id = ?", (reaction_id,))
            self._refresh_ancestors(conn, found[0])
        return True

    def _refresh_ancestors(self, conn, parent: str) -> None:
        """Rebuild the children of ``parent``, then of its parent, up the chain: a reaction's
        ``latest_children`` embed its children whole, children members included."""
        seen = set()
        while parent and parent not in seen:
            seen.add(parent)
            self._refresh(conn, parent)
            row = conn.execute("SELECT parent FROM reactions WHERE id = ?", (parent,)).fetchone()
            parent = row[0] if row else ""

    def _refresh(self, conn, parent: str) -> None:
        counts = dict(conn.execute(
            "SELECT kind, COUNT(*) FROM reactions WHERE parent = ? AND deleted_us IS NULL GROUP BY kind",
            (parent,)).fetchall())
        latest = {}
        for kind in counts:
            rows = conn.execute(
                "SELECT body, children FROM reactions WHERE parent = ? AND kind = ? AND deleted_us IS NULL "
                "ORDER BY key DESC LIMIT ?", (parent, kind, model.LATEST_CHILDREN)).fetchall()
            latest[kind] = [model.reaction_bytes(b, c) for b, c in rows]
        conn.execute("UPDATE reactions SET children = ? WHERE id = ?",
                     (model.encode_children(latest, counts), parent))

    # ---- reads --------------------------------------------------------------------------------
    def get_reactions(self, reaction_ids: Sequence[str]) -> dict[str, StoredReaction]:
        rows = self.db.query_in(f"SELECT {COLUMNS} FROM reactions WHERE id IN ({{marks}})", reaction_ids)
        return {r[0]: _row(r) for r in rows}

    def list_reactions(self, scope: Scope, rng: Range, limit: int, ascending: bool = False) -> list[StoredReaction]:
        if limit <= 0:
            return []
        sql = f"SELECT {COLUMNS} FROM reactions WHERE {_SCOPE[scope.field]} AND deleted_us IS NULL"
        params: list = [scope.value]
        if scope.kind is not None:
            sql += " AND kind = ?"
            params.append(scope.kind)
        upper, upper_incl = rng.upper()
        if upper is not None:
            sql += " AND key <= ?" if upper_incl else " AND key < ?"
            params.append(upper)
        lower, lower_incl = rng.lower()
        if lower is not None:
            sql += " AND key >= ?" if lower_incl else " AND key > ?"
            params.append(lower)
        sql += f" ORDER BY key {'ASC' if ascending else 'DESC'} LIMIT ?"
        return [_row(r) for r in self.db.query(sql, (*params, limit))]

    def own_children(self, parent_ids: Sequence[str], user_id: str,
                     kinds: Sequence[str] = ()) -> dict[str, list[StoredReaction]]:
        out: dict[str, list[StoredReaction]] = {}
        rows = self.db.query_in(
            # the (parent, user_id, key) index: a user's own reactions may be many, a parent's few
            f"SELECT {COLUMNS} FROM reactions INDEXED BY reactions_by_parent_user "
            f"WHERE user_id = ? AND deleted_us IS NULL AND parent IN ({{marks}}) ORDER BY key DESC",
            [p for p in parent_ids if p], (user_id,))
        wanted = set(kinds)
        for r in rows:
            s = _row(r)
            if not wanted or s.record.kind in wanted:
                out.setdefault(s.record.parent, []).append(s)
        return out

    def reaction_counts(self, activity_id: str) -> dict[str, int]:
        return dict(self.db.query(
            "SELECT kind, COUNT(*) FROM reactions WHERE activity_id = ? AND parent = '' AND deleted_us IS NULL "
            "GROUP BY kind", (activity_id,)))

    def enrichment_rows(self, activity_ids: Sequence[str], kinds: Sequence[str] | None, latest: int,
                        own_user: str | None) -> tuple[list[tuple[str, str, int]], list[tuple]]:
        # Two statements for the whole page: the counts per (activity, kind) over the
        # (activity_id, parent, kind, key) index, then one compound SELECT with a branch per
        # (activity, kind) that has reactions (each an index range with LIMIT: work bounded by
        # what is shown, however popular the activity) plus the user's own reactions.
        aids = list(dict.fromkeys(activity_ids))
        if not aids:
            return [], []
        kind_sql, kind_params = "", ()  # type: tuple[str, tuple[str, ...]]
        if kinds is not None:
            kinds = list(dict.fromkeys(kinds))
            if not kinds:
                return [], []
            kind_sql, kind_params = f" AND kind IN ({','.join('?' * len(kinds))})", tuple(kinds)
        live = "parent = '' AND deleted_us IS NULL"
        counts = [tuple(c) for c in self.db.query_in(
            f"SELECT activity_id, kind, COUNT(*) FROM reactions WHERE {live}{kind_sql} AND activity_id IN ({{marks}}) "
            "GROUP BY activity_id, kind ORDER BY activity_id, kind", aids, kind_params)]
        branches: list[tuple[str, tuple]] = []
        cols = "activity_id, kind, {slot}, id, user_id, body, children, key"
        if latest > 0:
            branches += [(f"SELECT * FROM (SELECT {cols.format(slot=0)} FROM reactions WHERE activity_id = ? AND "
                          f"{live} AND kind = ? ORDER BY key DESC LIMIT ?)", (a, k, latest)) for a, k, _ in counts]
        rows: list[tuple] = []
        empty = b"," + model.EMPTY_CHILDREN
        for i in range(0, len(branches), 400):  # under SQLite's compound-SELECT limit (500)
            part = branches[i:i + 400]
            found = self.db.query(" UNION ALL ".join(sql for sql, _ in part), tuple(p for _, ps in part for p in ps))
            rows += [(a, k, s, i_, u, b, b"," + c if c else empty) for a, k, s, i_, u, b, c, _ in found]
        if own_user:  # the (activity_id, user_id, key) index (0006), the whole page in one statement
            found = self.db.query_in(
                f"SELECT {cols.format(slot=1)} FROM reactions INDEXED BY reactions_by_activity_user "
                f"WHERE user_id = ?{kind_sql} AND {live} AND activity_id IN ({{marks}}) ORDER BY key DESC",
                aids, (own_user, *kind_params))
            rows += [(a, k, s, i_, u, b, b"," + c if c else empty) for a, k, s, i_, u, b, c, _ in found]
        return counts, rows
