"""Migration 0004 on data written by the previous schema: every row keeps its data, timeline rows
get their body copies (at the activity's version), and the new reads serve it."""

from __future__ import annotations

import pytest

from feedline import db
from feedline.models import ids
from feedline.storage.cassandra.base import key_uuid
from tests.integration.previous_schema import previous_schema

pytestmark = pytest.mark.cassandra


def _key(t: int, n: int = 1) -> bytes:
    return ids.key_from_time(1_650_000_000_000_000 + t * 1000, b"\x80\x80" + n.to_bytes(6, "big"))


def _body(k: bytes, extra: str = "") -> bytes:
    return b'{"id":"%s","verb":"post"%s}' % (ids.key_to_uuid(k).encode(), extra.encode())


def _old_writes(session) -> dict:
    """What the previous code wrote (0001's statements): activities, own rows, fan-out copies,
    grouped rows, the reverse index, a follow; and an entry whose activity is gone."""
    keys = [_key(t) for t in range(40)]
    gone = _key(99)
    own, f1, f2, agg = "user:u", "timeline:f1", "timeline:f2", "aggregated:a"
    for k in keys:
        session.execute("INSERT INTO activities (id, body, foreign_id, feed, actor, verb) VALUES (%s, %s, %s, %s, %s, %s)",
                        (key_uuid(k), _body(k), "", own, "u", "post"))
    rows = [(own, k, "-") for k in keys] + [(f, k, own) for f in (f1, f2) for k in keys] + [(own, gone, "-")]
    for feed, k, origin in rows:
        session.execute("INSERT INTO timeline (feed, key, origin) VALUES (%s, %s, %s)", (feed, k, origin))
        session.execute("INSERT INTO timeline_by_origin (feed, origin, key) VALUES (%s, %s, %s)", (feed, origin, k))
        session.execute("INSERT INTO activity_feeds (id, feed, origin) VALUES (%s, %s, %s)", (key_uuid(k), feed, origin))
    for k in keys[:10]:
        session.execute("INSERT INTO timeline (feed, key, origin, grp, actor, verb) VALUES (%s, %s, %s, %s, %s, %s)",
                        (agg, k, own, "post_2022", "u", "post"))
        session.execute("INSERT INTO activity_feeds (id, feed, origin) VALUES (%s, %s, %s)", (key_uuid(k), agg, own))
    session.execute("INSERT INTO follows_by_source (source, target, created_us) VALUES (%s, %s, %s)", (f1, own, 5))
    session.execute("INSERT INTO follows_by_target (target, source, created_us) VALUES (%s, %s, %s)", (own, f1, 5))
    return {"keys": keys, "gone": gone, "own": own, "f1": f1, "f2": f2, "agg": agg}


def _counts(session, tables) -> dict[str, int]:
    return {t: len(list(session.execute(f"SELECT * FROM {t}"))) for t in tables}


def test_0004_carries_rows_of_the_previous_schema(cassandra_settings, tmp_path):
    with previous_schema(cassandra_settings, tmp_path, "0002", "m4") as old:
        assert old.applied == ["0001_init"]
        session, keyspace = old.session, old.keyspace
        data = _old_writes(session)
        tables = ("activities", "timeline", "timeline_by_origin", "activity_feeds", "follows_by_source",
                  "follows_by_target")
        before = _counts(session, tables)

        applied = db.migrate(cassandra_settings, keyspace=keyspace)
        assert "0004_timeline_bodies" in applied
        assert _counts(session, tables) == before  # nothing lost, nothing added
        session.set_keyspace(keyspace)
        copies = {(f, k): (b, w) for f, k, b, w in session.execute(
            "SELECT feed, key, body, WRITETIME(body) FROM timeline")}
        truth = {k: (b, w) for k in data["keys"]
                 for b, w in session.execute("SELECT body, WRITETIME(body) FROM activities WHERE id = %s",
                                             (key_uuid(k),))}
        for (f, k), copy in copies.items():
            assert copy == (truth[k] if k in truth else (None, None)), (f, k)

        stores = old.stores()
        keys = data["keys"]
        desc = keys[::-1]
        for f, origin in ((data["own"], None), (data["f1"], data["own"]), (data["f2"], data["own"])):
            page = stores.timelines.read_page(f, 25)
            # the own feed's newest entry is the one whose activity is gone: skipped, as before
            assert page == [(k, _body(k), origin) for k in desc[:24 if origin is None else 25]], f
        assert stores.timelines.page_bodies(data["agg"], keys[:3]) == {k: _body(k) for k in keys[:3]}
        assert list(stores.timelines.read_window(data["agg"], 100)[0]) == keys[:10][::-1]
        assert stores.follows.count_follows(data["own"]) == 1
        # the copies follow updates from now on
        from feedline.activities.store import ActivityRecord

        stores.activities.put_activities([ActivityRecord(keys[-1], _body(keys[-1], ',"v":2'), "", data["own"])])
        assert stores.timelines.refresh_copies(keys[-1]) == (3, None)
        assert stores.timelines.read_page(data["f2"], 1)[0][1] == _body(keys[-1], ',"v":2')
        # the data step is idempotent: a re-run (an interrupted migration) writes nothing more
        step = {m.name: m for m in db.load_migrations()}["timeline_bodies"]
        assert step.run_data_step(session, keyspace) == 0
        assert db.migrate(cassandra_settings, keyspace=keyspace) == []
