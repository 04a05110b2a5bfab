"""The production backend: Apache Cassandra 4/5 (portable CQL: ScyllaDB, Amazon Keyspaces).

- ``session``: the lazily built, reused driver session; error mapping and the idle reconnect.
- ``statements``: every CQL statement, as text, prepared once per session.
- ``base``: what the role stores share; ``activities``, ``timelines`` (and marks), ``follows``,
  ``reactions``, ``users``, ``collections``, ``events``:
  one module per role contract, on the tables of ``storage/cassandra/migrations`` (applied by
  ``feedline db migrate``).

Importing this package does not import the driver or connect; the first query does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from feedline.storage.cassandra.activities import CassandraActivities
from feedline.storage.cassandra.collections import CassandraCollections
from feedline.storage.cassandra.events import CassandraEvents
from feedline.storage.cassandra.files import CassandraFiles
from feedline.storage.cassandra.follows import CassandraFollows
from feedline.storage.cassandra.reactions import CassandraReactions
from feedline.storage.cassandra.realtime import CassandraSubscriptions
from feedline.storage.cassandra.session import CassandraSession, session_options
from feedline.storage.cassandra.timelines import CassandraMarks, CassandraTimelines
from feedline.storage.cassandra.users import CassandraUsers
from feedline.stores import Stores

if TYPE_CHECKING:
    from feedline.config import Settings


def open_stores(hosts: Sequence[str] = ("127.0.0.1",), port: int = 9042, keyspace: str = "feedline",
                local_dc: str = "datacenter1", *, session: CassandraSession | None = None,
                **options: Any) -> Stores:
    """Every role store on one session. Nothing connects here: the session is built by the first
    query. ``options`` go to ``CassandraSession`` (``protocol_version``, timeouts, ``ssl_context``,
    ``auth_provider``, ``consistency``)."""
    cs = session or CassandraSession(hosts, port, keyspace, local_dc, **options)
    activities = CassandraActivities(cs)
    return Stores(activities=activities, timelines=CassandraTimelines(cs, activities), marks=CassandraMarks(cs),
                  follows=CassandraFollows(cs), reactions=CassandraReactions(cs), users=CassandraUsers(cs),
                  collections=CassandraCollections(cs), events=CassandraEvents(cs), realtime=CassandraSubscriptions(cs),
                  files=CassandraFiles(cs),
                  closer=cs.shutdown)


def from_settings(settings: Settings) -> Stores:
    return open_stores(settings.cassandra_hosts, settings.cassandra_port, settings.cassandra_keyspace,
                       settings.cassandra_dc, **session_options(settings))


__all__ = ["CassandraSession", "from_settings", "open_stores"]
