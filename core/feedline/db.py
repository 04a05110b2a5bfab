"""Cassandra schema migrations: ``migrate(settings)`` brings a keyspace up to date.

Migrations are the package files ``feedline/storage/cassandra/migrations/NNNN_name.cql``, applied in order, each
once. A migration may carry a data step, ``NNNN_name.py`` beside it (or alone), whose
``migrate(session, keyspace)`` runs after the file's CQL (on a session bound to the keyspace) and
must be idempotent: it is run again if the migration was interrupted. What was applied is recorded in the keyspace's ``schema_migrations`` table with a checksum
of the file, so running ``migrate`` again does nothing, and a file edited after it was applied
is an error (write a new migration instead). A migration interrupted half-way is safely applied
again: files use ``CREATE ... IF NOT EXISTS``, and an ``ALTER TABLE ... ADD`` whose column is
already there is skipped (CQL has no portable ``ADD IF NOT EXISTS``).

Run it from one place (a deploy step, CI, a developer's shell), never from every Lambda cold
start: concurrent schema changes of one table can leave Cassandra's nodes disagreeing on it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feedline.config import Settings

log = logging.getLogger("feedline.db")

#: the migrations ship inside the package, so an installed wheel migrates as a checkout does
MIGRATIONS_DIR = Path(__file__).resolve().parent / "storage" / "cassandra" / "migrations"
#: one replica: a local single node. Production passes its own (NetworkTopologyStrategy).
LOCAL_REPLICATION: Mapping[str, Any] = {"class": "SimpleStrategy", "replication_factor": 1}
#: DDL can take longer than a data request (schema agreement across nodes)
DDL_TIMEOUT_S = 30.0

_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.(cql|py)")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,47}")
_STRATEGY = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
_ALTER_ADD = re.compile(r"^\s*ALTER\s+TABLE\s+\S+\s+ADD\s", re.IGNORECASE)


class MigrationError(RuntimeError):
    """A migration cannot be applied (bad file, edited after it was applied, bad replication)."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    name: str
    path: Path
    #: the CQL text ("" for a data step alone)
    text: str
    #: the data step ``NNNN_name.py``, if any
    script: Path | None = None

    @property
    def checksum(self) -> str:
        """Of the CQL text, and of the data step's source when there is one (a CQL-only
        migration keeps the checksum it was recorded with before data steps existed)."""
        text = self.text if self.script is None else f"{self.text}\n-- data step --\n{self.script.read_text()}"
        return hashlib.sha256(text.encode()).hexdigest()

    def run_data_step(self, session: Any, keyspace: str) -> Any:
        """Run the data step (if any); what its ``migrate`` returns."""
        if self.script is None:
            return None
        spec = importlib.util.spec_from_file_location(f"feedline_migration_{self.version}", self.script)
        if spec is None or spec.loader is None:
            raise MigrationError(f"{self.script.name}: cannot be loaded")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        step = getattr(module, "migrate", None)
        if not callable(step):
            raise MigrationError(f"{self.script.name}: a data step defines migrate(session, keyspace)")
        return step(session, keyspace)

    def statements(self) -> list[str]:
        """The CQL statements of the file: ``--`` comments dropped, split on ``;``."""
        lines = [line.split("--", 1)[0] for line in self.text.splitlines()]
        return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def load_migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or MIGRATIONS_DIR
    if not directory.is_dir():
        raise MigrationError(f"no migrations folder at {directory} (a broken install?)")
    parts: dict[tuple[str, str], dict[str, Path]] = {}
    for path in sorted([*directory.glob("*.cql"), *directory.glob("*.py")]):
        if path.name == "__init__.py":
            continue
        m = _FILE.fullmatch(path.name)
        if m is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.cql (and NNNN_name.py)")
        parts.setdefault((m.group(1), m.group(2)), {})[m.group(3)] = path
    found = []
    for (version, name), files in sorted(parts.items()):
        cql, script = files.get("cql"), files.get("py")
        found.append(Migration(version, name, cql if cql is not None else files["py"],
                               cql.read_text() if cql is not None else "", script))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version in {directory}")
    return found


def replication_cql(replication: Mapping[str, Any]) -> str:
    """A validated CQL map literal for ``CREATE KEYSPACE ... WITH replication = ...``."""
    strategy = str(replication.get("class", ""))
    if not _STRATEGY.fullmatch(strategy):
        raise MigrationError(f"replication class {strategy!r} is not a strategy name")
    parts = [f"'class': '{strategy}'"]
    for k, v in replication.items():
        if k == "class":
            continue
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", str(k)) or not str(v).isdigit():
            raise MigrationError(f"replication option {k!r}: {v!r} is not a data center / factor pair")
        parts.append(f"'{k}': '{int(v)}'")
    return "{" + ", ".join(parts) + "}"


def parse_replication(text: str) -> dict[str, Any]:
    """``SimpleStrategy:3`` or ``NetworkTopologyStrategy:dc1=3,dc2=3`` (a CLI-friendly form)."""
    strategy, _, rest = text.partition(":")
    if strategy == "SimpleStrategy":
        return {"class": strategy, "replication_factor": int(rest or 1)}
    out: dict[str, Any] = {"class": strategy}
    for pair in filter(None, rest.split(",")):
        dc, _, factor = pair.partition("=")
        out[dc.strip()] = int(factor)
    return out


def migrate(settings: Settings, *, replication: Mapping[str, Any] | None = None,
            directory: Path | None = None, keyspace: str | None = None) -> list[str]:
    """Create the keyspace if needed and apply pending migrations; the ones applied (``NNNN_name``).

    ``replication`` is used only when the keyspace is created (default: ``LOCAL_REPLICATION``);
    an existing keyspace keeps its own (change it with ALTER KEYSPACE and a repair).
    """
    from cassandra import InvalidRequest
    from cassandra.query import SimpleStatement

    from feedline.storage.cassandra.session import CassandraSession, session_options

    keyspace = keyspace or settings.cassandra_keyspace
    if not _IDENT.fullmatch(keyspace):
        raise MigrationError(f"keyspace name {keyspace!r}: letters, digits and _, 48 at most")
    migrations = load_migrations(directory)
    replication_text = replication_cql(replication or LOCAL_REPLICATION)
    options = {**session_options(settings), "request_timeout": DDL_TIMEOUT_S}
    cluster = CassandraSession(settings.cassandra_hosts, settings.cassandra_port, keyspace,
                               settings.cassandra_dc, **options).build_cluster()
    applied: list[str] = []
    try:
        session = cluster.connect()

        def ddl(cql: str) -> None:
            # DDL cannot take bind markers; identifiers are validated above, the files are ours
            session.execute(SimpleStatement(cql), timeout=DDL_TIMEOUT_S)

        ddl(f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {replication_text}")
        session.set_keyspace(keyspace)
        ddl("CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version text PRIMARY KEY, name text, checksum text, applied_at timestamp)")
        done = {v: c for v, c in session.execute("SELECT version, checksum FROM schema_migrations")}
        record = session.prepare(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)")
        for m in migrations:
            if m.version in done:
                if done[m.version] != m.checksum:
                    raise MigrationError(f"{m.path.name} changed after it was applied to {keyspace}: "
                                         "add a new migration instead")
                continue
            log.info("applying %s to %s", m.path.name, keyspace)
            for stmt in m.statements():
                try:
                    ddl(stmt)
                except InvalidRequest as exc:
                    # CQL has no portable ADD IF NOT EXISTS: a re-run of an interrupted
                    # migration meets the columns it added the first time
                    if not (_ALTER_ADD.match(stmt) and "already exist" in str(exc)):
                        raise
                    log.info("%s: column already there (%s)", m.path.name, exc)
            if not cluster.control_connection.wait_for_schema_agreement():
                raise MigrationError(f"nodes disagree on the schema after {m.path.name}: "
                                     "retry when they agree")
            m.run_data_step(session, keyspace)  # idempotent: recorded only once it finished
            session.execute(record, (m.version, m.name, m.checksum, datetime.now(UTC)))
            applied.append(f"{m.version}_{m.name}")
    finally:
        cluster.shutdown()
    return applied
