"""The production backend: Apache Cassandra 4/5 (portable CQL: ScyllaDB, Amazon Keyspaces).

- ``session``: the lazily built, reused driver session; error mapping and the idle reconnect.
- ``statements``: every CQL statement, as text, prepared once per session.
- ``store``: ``CassandraStorage``, the storage contract on the tables of
  ``infra/cassandra/migrations`` (applied by ``feedline.db.migrate``).

Importing this package does not import the driver or connect; the first query does.
"""

from feedline.storage.cassandra.store import CassandraStorage

__all__ = ["CassandraStorage"]
