"""One lazily built driver session per process, reused across warm Lambda invocations.

Nothing connects at import or in ``__init__``: the first query builds the cluster. After that the
same session serves every request, with statements prepared once per session, on first use (a cold
start prepares only what its request needs).

Failure handling, in the order a request meets it:

- Driver errors that mean "the database cannot answer" (no host, timeouts, unavailable replicas,
  overload, dropped connections) become ``feedline.errors.StorageUnavailable`` (the API's 503).
  Anything else (``InvalidRequest``: a bug or a missing migration) propagates unchanged.
- Lambda freezes the process between invocations, driver threads included: heartbeats stop, and
  a NAT or load balancer may drop the idle TCP connections without the driver noticing. So when
  the session was idle for more than ``idle_reconnect_s`` and the first query fails with a
  connection-level error, the cluster is shut down, rebuilt, and the query retried once. Only the
  idle case retries: during an outage a fresh cluster would fail the same way, and the 503 must
  come fast. Every statement we run is an idempotent upsert or delete, so a retry is safe.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from feedline.errors import StorageUnavailable
from feedline.storage.cassandra import statements

if TYPE_CHECKING:
    from feedline.config import Settings

log = logging.getLogger("feedline.storage.cassandra")

T = TypeVar("T")

#: Protocol v4: Cassandra 3.0-5.0, ScyllaDB and Amazon Keyspaces all speak it, and we use nothing
#: v5 adds. v5 frames every message in checksummed segments that driver 3.30 cuts and checks in
#: Python (``cassandra/segment.py``): measured on the local 5.0 node, same run, interleaved, the
#: client CPU of a 26-row slice is 14% lower on v4 and of a 195 KB one 26% lower (BENCHMARKS.md,
#: "Group summaries"). ``cassandra_protocol_version`` picks another. Pinned so the driver never
#: negotiates (a failed v5 handshake would cost a round trip per connection).
DEFAULT_PROTOCOL_VERSION = 4
CONNECT_TIMEOUT_S = 3.0
REQUEST_TIMEOUT_S = 2.5
#: a query after this long without one may meet connections that died while Lambda was frozen
IDLE_RECONNECT_S = 60.0
RECONNECT_DELAY_S = 1.0
#: in-flight requests of one fan-out write. Measured (bench/run.py, 1,000 followers, one local
#: node on 2 cores): 64 -> ~440 ms, 128 -> ~270 ms, 256 -> ~265 ms; 128 keeps the bound moderate.
CONCURRENCY = 128
#: statements per single-partition batch: within Amazon Keyspaces' 30, and small enough (~50
#: bytes a row) to stay under Cassandra's batch_size_warn_threshold (5 KiB)
BATCH_ROWS = 24
#: and at most this many bytes of values per batch (rows with body copies are up to ~10 KiB): a
#: group bigger than this goes alone (a warning on the server above 5 KiB, never the 50 KiB failure)
BATCH_BYTES = 4096


def _driver_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(connection-level errors worth one rebuild-and-retry, every "cannot answer" error)."""
    import cassandra
    from cassandra import protocol
    from cassandra.cluster import NoHostAvailable
    from cassandra.connection import ConnectionException

    connection = (NoHostAvailable, cassandra.OperationTimedOut, ConnectionException)
    # RequestExecutionException: Unavailable, Read/WriteTimeout, Read/WriteFailure; the protocol
    # one: Overloaded, IsBootstrapping (the driver raises those error messages themselves).
    unavailable = connection + (cassandra.RequestExecutionException, protocol.RequestExecutionException)
    return connection, unavailable


def session_options(settings: Settings) -> dict[str, Any]:
    """``CassandraSession`` options the settings carry beyond hosts/port/keyspace/dc: protocol
    version (ScyllaDB and Amazon Keyspaces speak v4), TLS and authentication."""
    options: dict[str, Any] = {}
    if settings.cassandra_keyspaces:
        # Amazon Keyspaces: protocol v4, TLS with certificate and host name checks, SigV4 auth
        # with the function's IAM role (or service-specific credentials, if given)
        import ssl

        options["protocol_version"] = 4
        # Keyspaces refuses USING TIMESTAMP unless a table has client-side timestamps turned on,
        # and even then timestamps older than 2 days: no versioned body copies there (pages join
        # bodies by IN, as before migration 0004; see infra/cassandra/DESIGN.md, Portability)
        options["body_copies"] = False
        ctx = ssl.create_default_context()
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        options["ssl_context"] = ctx
        if not settings.cassandra_username:
            try:
                from cassandra_sigv4.auth import SigV4AuthProvider
            except ImportError:
                raise RuntimeError("Amazon Keyspaces mode needs the cassandra-sigv4 package "
                                   "(pip install 'feedline[keyspaces]') or a username/password") from None
            options["auth_provider"] = SigV4AuthProvider()
    if settings.cassandra_username:
        from cassandra.auth import PlainTextAuthProvider

        options["auth_provider"] = PlainTextAuthProvider(settings.cassandra_username, settings.cassandra_password)
    if settings.cassandra_protocol_version:
        options["protocol_version"] = int(settings.cassandra_protocol_version)
    return options


class CassandraSession:
    """The cluster, its session and its prepared statements, built on first use."""

    def __init__(self, hosts: Sequence[str], port: int, keyspace: str, local_dc: str, *,
                 protocol_version: int = DEFAULT_PROTOCOL_VERSION,
                 connect_timeout: float = CONNECT_TIMEOUT_S,
                 request_timeout: float = REQUEST_TIMEOUT_S,
                 idle_reconnect_s: float = IDLE_RECONNECT_S,
                 reconnect_delay_s: float = RECONNECT_DELAY_S,
                 consistency: str = "LOCAL_QUORUM",
                 body_copies: bool = True,
                 ssl_context: Any = None,
                 auth_provider: Any = None,
                 clock: Callable[[], float] = time.monotonic):
        self.hosts = tuple(hosts)
        self.port = port
        self.keyspace = keyspace
        self.local_dc = local_dc
        self.protocol_version = protocol_version
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.idle_reconnect_s = idle_reconnect_s
        self.reconnect_delay_s = reconnect_delay_s
        self.consistency = consistency
        #: timeline rows carry versioned copies of activity bodies (off: pages read bodies by IN)
        self.body_copies = body_copies
        self.ssl_context = ssl_context
        self.auth_provider = auth_provider
        self.clock = clock
        self._lock = threading.RLock()
        self._cluster: Any = None
        self._session: Any = None
        self._prepared: dict[str, Any] = {}
        self._last_used: float | None = None
        self._errors: tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]] | None = None
        #: how many times the cluster was rebuilt after an idle failure (observability, tests)
        self.rebuilds = 0

    # ---- building -----------------------------------------------------------------------------
    def build_cluster(self) -> Any:
        """A driver ``Cluster`` with our policies (also used by the migration runner)."""
        from cassandra import ConsistencyLevel
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import ConstantReconnectionPolicy, DCAwareRoundRobinPolicy, TokenAwarePolicy
        from cassandra.query import tuple_factory

        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=self.local_dc)),
            request_timeout=self.request_timeout,
            consistency_level=ConsistencyLevel.name_to_value[self.consistency],
            # tuple_factory, not named_tuple_factory: that one builds a namedtuple class per page
            row_factory=tuple_factory,
        )
        return Cluster(
            contact_points=list(self.hosts),
            port=self.port,
            protocol_version=self.protocol_version,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            connect_timeout=self.connect_timeout,
            control_connection_timeout=self.connect_timeout,
            reconnection_policy=ConstantReconnectionPolicy(self.reconnect_delay_s, max_attempts=None),
            # the server asks again for a statement it does not know: cold starts prepare on one host
            prepare_on_all_hosts=False,
            monitor_reporting_enabled=False,  # DSE Insights: nothing to report to
            # the driver writes a request in several sends; without TCP_NODELAY, Nagle holds the
            # last until the first is acknowledged, and the server acknowledges late (delayed ACK):
            # measured 44 ms for a 7 KB UPDATE on the local node, ~1 ms with it
            sockopts=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            ssl_context=self.ssl_context,
            auth_provider=self.auth_provider,
        )

    def _connect(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    cluster = self.build_cluster()
                    try:
                        session = cluster.connect(self.keyspace)
                    except Exception as exc:
                        cluster.shutdown()
                        mapped = self._as_unavailable(exc)
                        if mapped is exc:
                            raise
                        raise mapped from exc
                    # Session.prepare() waits Session.default_timeout (10 s), not the profile's
                    # request_timeout, and the driver refuses to set it when profiles are used:
                    # set the attribute behind the property, or a cold start on a silent
                    # connection would hang 10 s per statement.
                    session._default_timeout = self.request_timeout
                    self._cluster, self._session = cluster, session
        return self._session

    def _as_unavailable(self, exc: BaseException) -> BaseException:
        """``StorageUnavailable`` for a "cannot answer" driver error; other errors unchanged."""
        from cassandra import InvalidRequest

        _, unavailable = self.errors
        missing = f"keyspace '{self.keyspace}'".lower() in str(exc).lower()
        if missing and isinstance(exc, (*unavailable, InvalidRequest)):
            # connect() to a keyspace that does not exist: the deployment was not migrated
            return StorageUnavailable(f"keyspace {self.keyspace!r} is missing or unreachable "
                                      f"(run `feedline db migrate`): {exc}")
        if isinstance(exc, unavailable):
            where = f"{','.join(self.hosts)}:{self.port}"
            return StorageUnavailable(f"Cassandra at {where} is unavailable: {exc}")
        return exc

    @property
    def errors(self) -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
        if self._errors is None:
            self._errors = _driver_errors()
        return self._errors

    def prepared(self, name: str) -> Any:
        """The prepared statement ``name`` of ``statements.CQL`` (prepared once per session)."""
        stmt = self._prepared.get(name)
        if stmt is None:
            session = self._connect()
            with self._lock:
                stmt = self._prepared.get(name)
                if stmt is None:
                    stmt = session.prepare(statements.qualified(statements.CQL[name], self.keyspace))
                    stmt.is_idempotent = True  # no counters, no LWT: every statement may be retried
                    self._prepared[name] = stmt
        return stmt

    def timestamp(self) -> int:
        """A write timestamp (microseconds) from the driver's own monotonic generator: explicit
        ``USING TIMESTAMP`` values then order with the driver's implicit ones in this process."""
        return int(self._connect().cluster.timestamp_generator())

    def reset(self) -> None:
        """Drop the cluster (its connections, its prepared statements); the next call rebuilds."""
        with self._lock:
            cluster, self._cluster, self._session = self._cluster, None, None
            self._prepared = {}
        if cluster is not None:
            try:
                cluster.shutdown()
            except Exception:  # a half-dead cluster may fail to close: it is dropped either way
                log.warning("error while shutting a Cassandra cluster down", exc_info=True)

    def shutdown(self) -> None:
        self.reset()
        self._last_used = None

    # ---- running ------------------------------------------------------------------------------
    def run(self, fn: Callable[[CassandraSession], T]) -> T:
        """Run ``fn(self)`` with the error mapping and the one idle retry described above.

        ``fn`` must be idempotent (it may run twice) and must finish reading its results (a page
        fetched later would escape the mapping).
        """
        connection, unavailable = self.errors
        last = self._last_used
        idle = last is not None and self.clock() - last > self.idle_reconnect_s
        try:
            try:
                return fn(self)
            except connection as exc:
                if not idle:
                    raise
                log.warning("Cassandra failed after %.0f s idle (%s): rebuilding the cluster, retrying once",
                            self.clock() - (last or 0.0), type(exc).__name__)
                self.reset()
                self.rebuilds += 1
                return fn(self)
        except unavailable as exc:
            raise self._as_unavailable(exc) from exc
        finally:
            self._last_used = self.clock()

    def rows(self, name: str, params: Sequence[Any] = (), *, timeout: float | None = None) -> list[tuple]:
        """Every row of one statement (all pages)."""
        def go(cs: CassandraSession) -> list[tuple]:
            kwargs = {} if timeout is None else {"timeout": timeout}
            return list(cs._connect().execute(cs.prepared(name), params, **kwargs))
        return self.run(go)

    def pages(self, name: str, params: Sequence[Any], fetch_size: int) -> Iterator[list[tuple]]:
        """The rows of one statement page by page, each page fetched under ``run`` (stop early freely)."""
        state: Any = None
        while True:
            def go(cs: CassandraSession, state: Any = state) -> tuple[list[tuple], Any]:
                stmt = cs.prepared(name).bind(params)
                stmt.fetch_size = fetch_size
                result = cs._connect().execute(stmt, paging_state=state)
                return list(result.current_rows), result.paging_state
            rows, state = self.run(go)
            if rows:
                yield rows
            if state is None:
                return

    def write(self, name: str, params: Sequence[Any]) -> None:
        self.run(lambda cs: cs._connect().execute(cs.prepared(name), params))

    def concurrent(self, items: Iterable[tuple[str, Sequence[Any]] | Batch],
                   concurrency: int = CONCURRENCY) -> list[Any]:
        """Run statements ``(name, params)`` (and ``Batch``es), ``concurrency`` in flight; their results.

        Used for multi-partition work (fan-out writes, point reads): each statement is routed to a
        replica of its own partition, where a multi-partition batch would burden one coordinator.
        """
        items = list(items)
        if not items:
            return []

        def go(cs: CassandraSession) -> list[Any]:
            from cassandra.concurrent import execute_concurrent

            session = cs._connect()
            todo: list[tuple[Any, Any]] = []
            binder = Binder(cs.prepared)  # one per call: a fan-out's values repeat across its batches
            for item in items:
                if isinstance(item, Batch):
                    todo.extend((b, None) for b in item.statements(cs.prepared, binder))
                else:
                    todo.append((cs.prepared(item[0]), item[1]))
            results = execute_concurrent(session, todo, concurrency=concurrency, raise_on_first_error=True)
            return [r.result_or_exc for r in results]
        return self.run(go)


@dataclass(frozen=True, slots=True)
class Batch:
    """Writes to ONE partition key (of one table or several), sent as unlogged batches.

    Cassandra applies the rows of one partition key in one keyspace as a single mutation: atomic
    on each replica, one request, no batch log. ``groups`` are lists of ``(name, params)``; a group
    is never split across two batches (a timeline row and its index row land together). Never
    used across partition keys: that would make one coordinator do the fan-out's work.
    """

    groups: Sequence[Sequence[tuple[str, Sequence[Any]]]]

    @classmethod
    def rows(cls, name: str, rows: Iterable[Sequence[Any]]) -> Batch:
        return cls([[(name, r)] for r in rows])

    def statements(self, prepared: Callable[[str], Any], binder: Binder | None = None) -> Iterator[Any]:
        """The driver's batch statements; ``binder`` (else ``BatchStatement.add``) adds the rows."""
        from cassandra.query import BatchStatement, BatchType

        one = len(self.groups) == 1  # the fan-out's case (one feed's rows): nothing to split or size
        batch, size, nbytes = None, 0, 0
        for group in self.groups:
            gbytes = 0 if one else sum(len(v) for _, params in group for v in params if isinstance(v, (bytes, str)))
            if batch is not None and (size + len(group) > BATCH_ROWS or nbytes + gbytes > BATCH_BYTES):
                yield batch
                batch = None
            if batch is None:
                batch, size, nbytes = BatchStatement(batch_type=BatchType.UNLOGGED), 0, 0
                batch.is_idempotent = True
            if binder is None:
                for name, params in group:
                    batch.add(prepared(name), params)
            else:
                for name, params in group:
                    binder.add(batch, name, params)
            size += len(group)
            nbytes += gbytes
        if batch is not None:
            yield batch


class Binder:
    """Adds ``(name, params)`` to a driver ``BatchStatement`` exactly as ``BatchStatement.add(
    prepared, params)`` does (same serialized values, routing key and keyspace), without its
    per-statement cost: the driver builds a ``BoundStatement`` for every row and serializes every
    value, while a fan-out's rows repeat the same key, origin, body and group for each follower and
    the follower's feed in each of its ~6 statements. Here each distinct str/bytes/int value is
    serialized once per column per ``Binder`` (one ``concurrent`` call); anything else (maps,
    UUIDs) is serialized as the driver would. Statements the shortcut does not cover (unprepared
    text, column encryption, custom payloads, unset or missing values, a value the type refuses)
    go through ``BatchStatement.add`` itself, so errors read as the driver's.
    ``tests/contract/test_cassandra.py`` checks its batches against the driver's (the fan-out's
    statements and each fallback). ``_add_statement_and_params`` is the driver's own (private)
    append of ``BatchStatement.add``; that test fails if a driver release changes it.
    """

    __slots__ = ("_prepared", "_shapes", "_unset")

    def __init__(self, prepared: Callable[[str], Any]):
        self._prepared = prepared
        self._unset: Any = None  # the driver's UNSET_VALUE (imported with the first statement)
        #: name -> (statement, query id or None for the driver's path, ((column type, {value:
        #: serialized}), ...), protocol version, routing key indexes, keyspace)
        self._shapes: dict[str, tuple] = {}

    def _shape(self, name: str) -> tuple:
        from cassandra.query import UNSET_VALUE, PreparedStatement

        self._unset = UNSET_VALUE
        stmt = self._prepared(name)
        meta = getattr(stmt, "column_metadata", None)
        if (not isinstance(stmt, PreparedStatement) or not meta or stmt.column_encryption_policy is not None
                or stmt.custom_payload or stmt.protocol_version < 4):
            shape: tuple = (stmt, None, (), 0, None, None)
        else:
            # a memo per column, by value: str, bytes and int values never equal one another
            shape = (stmt, stmt.query_id, tuple((c.type, {}) for c in meta), stmt.protocol_version,
                     stmt.routing_key_indexes or None, meta[0].keyspace_name)
        self._shapes[name] = shape
        return shape

    def add(self, batch: Any, name: str, params: Sequence[Any]) -> None:
        shape = self._shapes.get(name)
        if shape is None:
            shape = self._shape(name)
        stmt, query_id, columns, proto, routing, keyspace = shape
        values: list[bytes | None] | None = None
        if query_id is not None and len(params) == len(columns):
            values = []
            append = values.append
            try:
                for value, (ctype, memo) in zip(params, columns):
                    if value is None:
                        append(None)
                    elif type(value) in _MEMOISED:  # exact types: True is not 1, 1.0 is not memoised
                        got = memo.get(value)
                        if got is None:
                            got = memo[value] = ctype.serialize(value, proto)
                        append(got)
                    elif value is self._unset:
                        values = None
                        break
                    else:
                        append(ctype.serialize(value, proto))
            except Exception:  # a value its type refuses: the driver's own bind raises its error
                values = None
        if values is None:
            batch.add(stmt, params)
            return
        if routing is not None and batch.routing_key is None:
            # what BatchStatement.add takes from its first statement with a routing key
            parts = [values[i] for i in routing]
            if all(p is not None for p in parts):
                batch.routing_key = parts
                batch.keyspace = keyspace
        batch._add_statement_and_params(True, query_id, values)


_MEMOISED = frozenset((str, bytes, int))
