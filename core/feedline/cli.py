"""The ``feedline`` command: ``dev`` (serve the local stack), ``invoke`` (one function, one event),
``dlq redrive`` (dead letters back to the queue), ``db migrate`` (schema migrations), ``info`` (which compiled twins are loaded)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

#: the local stack's credentials (README, Makefile, tests/events): used by `dev` and `invoke` when
#: neither the environment nor a FEEDLINE_CONFIG file names any. Never used by the Lambda handlers.
LOCAL_KEY, LOCAL_SECRET = "local-key", "local-secret-change-me-for-anything-shared"  # noqa: S105


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def _settings(args: argparse.Namespace):
    from feedline.config import ENV_API_KEY, ENV_API_SECRET, ENV_CONFIG, Settings

    env = dict(os.environ)
    if not env.get(ENV_CONFIG) and not (env.get(ENV_API_KEY) or env.get(ENV_API_SECRET)):
        print(f"feedline: {ENV_API_KEY}/{ENV_API_SECRET} not set: using the local credentials "
              f"({LOCAL_KEY} / {LOCAL_SECRET})", file=sys.stderr)
        env[ENV_API_KEY], env[ENV_API_SECRET] = LOCAL_KEY, LOCAL_SECRET
    if getattr(args, "delivery", None):
        env["FEEDLINE_DELIVERY"] = args.delivery
    if getattr(args, "storage", None):
        env["FEEDLINE_STORAGE"] = args.storage
    if getattr(args, "queue", None):
        env["FEEDLINE_QUEUE"] = args.queue
    return Settings.from_env(env)


def cmd_dev(args: argparse.Namespace) -> int:
    from feedline.local import template
    from feedline.local.runner import LocalStack
    from feedline.local.server import make_server

    settings = _settings(args)
    tpl = template.load(args.template)
    faye_app, faye_server = _start_faye(settings, args)  # before the stack: its runtimes publish into the hub
    stack = LocalStack(tpl, settings, concurrency=args.concurrency)
    poller = None
    if settings.queue == "sqs":
        # play Lambda's event source mapping: poll the queue, invoke the Fanout function
        from feedline.fanout.poller import SqsPoller
        from feedline.fanout.queue import make_sqs_client

        consumer = tpl.queue_consumer()
        if consumer is None or not settings.queue_url:
            raise SystemExit("--queue sqs needs FEEDLINE_QUEUE_URL and a function with an SQS event in the template")
        poller = SqsPoller(make_sqs_client(settings.sqs_endpoint), settings.queue_url,
                           lambda event: stack.invoke(consumer.name, event),
                           batch_size=args.batch_size, visibility_timeout=args.visibility_timeout)
        poller.start()
    server = make_server(stack, args.host, args.port, args.verbose, faye=faye_app)
    where = settings.sqlite_path if settings.storage == "sqlite" else ",".join(settings.cassandra_hosts)
    print(f"feedline dev: http://{args.host}:{server.port}/api/v1.0/  "
          f"(storage {settings.storage} at {where}, queue {settings.queue}/{settings.delivery}, "
          f"{stack.concurrency} execution environments per function)", flush=True)
    try:
        server.serve()  # until SIGINT/SIGTERM; in-flight requests are answered first
    finally:
        if poller is not None:
            poller.stop()
        if faye_server is not None:
            faye_server.stop()
        stack.close()
    return 0


def _start_faye(settings, args: argparse.Namespace):
    """Realtime (Faye) for stream-js's ``feed.subscribe()``: its hub becomes the publisher of this
    process's runtimes; the endpoint is served at ``/faye`` on the API port and on ``--faye-port``
    (stream-js's LOCAL_FAYE default is 9999). ``(None, None)`` when off (``--faye-port -1``)."""
    if args.faye_port < 0:
        return None, None
    from feedline.local.faye import FayeServer, build
    from feedline.realtime import publisher

    app, hub = build(settings.app)
    publisher.install(hub)
    server = None
    try:
        server = FayeServer(app, args.host, args.faye_port)
    except OSError as exc:
        print(f"feedline dev: faye is served on the API port only: cannot listen on {args.host}:{args.faye_port} "
              f"({exc}); pick another with --faye-port", file=sys.stderr)
    else:
        server.start()
        print(f"feedline dev: faye http://{args.host}:{server.port}/faye/  (app_id {settings.app.app_id})", flush=True)
    return app, server


def cmd_dlq_redrive(args: argparse.Namespace) -> int:
    from feedline.config import ENV_DLQ_URL, ENV_QUEUE_URL, ENV_SQS_ENDPOINT
    from feedline.fanout.poller import redrive
    from feedline.fanout.queue import make_sqs_client

    dlq = args.dlq_url or os.environ.get(ENV_DLQ_URL)
    queue = args.queue_url or os.environ.get(ENV_QUEUE_URL)
    if not dlq or not queue:
        raise SystemExit(f"give --dlq-url and --queue-url (or {ENV_DLQ_URL} / {ENV_QUEUE_URL})")
    moved = redrive(make_sqs_client(args.endpoint or os.environ.get(ENV_SQS_ENDPOINT, "")), dlq, queue)
    print(json.dumps({"moved": moved}))
    return 0


def cmd_db_migrate(args: argparse.Namespace) -> int:
    """Apply the packaged migrations to the configured backend: the SQLite file, or the Cassandra
    keyspace (created if needed). Works from an installed wheel; needs no API credentials."""
    from feedline.config import ENV_API_KEY, ENV_API_SECRET, Settings

    env = dict(os.environ)
    # the schema does not depend on the app's credentials: don't require them here
    env.setdefault(ENV_API_KEY, "-")
    env.setdefault(ENV_API_SECRET, "-")
    if args.storage:
        env["FEEDLINE_STORAGE"] = args.storage
    settings = Settings.from_env(env)
    if settings.storage == "sqlite":
        import sqlite3

        from feedline.storage.sqlite.db import SQLiteDB

        before = 0
        if settings.sqlite_path != ":memory:" and Path(settings.sqlite_path).exists():
            probe = sqlite3.connect(settings.sqlite_path)
            before = probe.execute("PRAGMA user_version").fetchone()[0]
            probe.close()
        sqlite = SQLiteDB(settings.sqlite_path)
        after = sqlite.version()
        sqlite.close()
        print(json.dumps({"sqlite": settings.sqlite_path, "version": after, "applied": after - before}))
        return 0
    from feedline import db

    applied = db.migrate(settings, keyspace=args.keyspace,
                         replication=db.parse_replication(args.replication) if args.replication else None)
    print(json.dumps({"keyspace": args.keyspace or settings.cassandra_keyspace, "applied": applied}))
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from feedline.local import template
    from feedline.local.runner import LocalStack

    event = json.loads(Path(args.event).read_text()) if args.event != "-" else json.load(sys.stdin)
    stack = LocalStack(template.load(args.template), _settings(args))
    try:
        result = stack.invoke(args.function, event)
    finally:
        stack.close()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def cmd_info(_args: argparse.Namespace) -> int:
    from feedline import (
        _ext,
        serialization,  # noqa: F401
    )
    from feedline.models import ids  # noqa: F401 - loads the twins

    print(json.dumps({"extensions": _ext.LOADED, "no_extensions": _ext.NO_EXTENSIONS,
                      "require_extensions": _ext.REQUIRE_EXTENSIONS}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="feedline", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)

    dev = sub.add_parser("dev", help="serve the HTTP API and the fan-out queue of template.yaml")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--template", default="template.yaml")
    dev.add_argument("--delivery", choices=["sync", "async"], help="embedded queue delivery (default sync)")
    dev.add_argument("--storage", choices=["sqlite", "cassandra"])
    dev.add_argument("--queue", choices=["embedded", "sqs"])
    dev.add_argument("--concurrency", type=_positive,
                     help="execution environments per function, as Lambda's concurrency (default: cores + 4)")
    dev.add_argument("--batch-size", type=int, default=10, help="SQS poller batch size (--queue sqs)")
    dev.add_argument("--visibility-timeout", type=int, default=30, help="SQS poller visibility timeout, s")
    dev.add_argument("--faye-port", type=int, default=9999,
                     help="realtime (Faye) port, stream-js's LOCAL_FAYE default 9999 (0: any free port, -1: off)")
    dev.add_argument("-v", "--verbose", action="store_true")
    dev.set_defaults(func=cmd_dev)

    dlq = sub.add_parser("dlq", help="dead-letter queue tools")
    dlq_sub = dlq.add_subparsers(dest="dlq_cmd", required=True)
    red = dlq_sub.add_parser("redrive", help="move dead-lettered fan-out messages back to the queue")
    red.add_argument("--dlq-url")
    red.add_argument("--queue-url")
    red.add_argument("--endpoint", help="SQS endpoint (moto locally)")
    red.set_defaults(func=cmd_dlq_redrive)

    inv = sub.add_parser("invoke", help="run one function on one event file and print its result")
    inv.add_argument("function", help="logical id in the template, e.g. WriteFunction")
    inv.add_argument("--event", "-e", required=True, help="event JSON file ('-' for stdin)")
    inv.add_argument("--template", default="template.yaml")
    inv.add_argument("--storage", choices=["sqlite", "cassandra"])
    inv.set_defaults(func=cmd_invoke)

    dbp = sub.add_parser("db", help="database schema tools")
    db_sub = dbp.add_subparsers(dest="db_cmd", required=True)
    mig = db_sub.add_parser("migrate", help="apply pending migrations (SQLite file, or Cassandra keyspace)")
    mig.add_argument("--storage", choices=["sqlite", "cassandra"], help="default: FEEDLINE_STORAGE or sqlite")
    mig.add_argument("--keyspace", help="default: FEEDLINE_CASSANDRA_KEYSPACE or 'feedline'")
    mig.add_argument("--replication", help="e.g. NetworkTopologyStrategy:dc1=3 (used when creating the keyspace)")
    mig.set_defaults(func=cmd_db_migrate)

    info = sub.add_parser("info", help="show which compiled twins are loaded")
    info.set_defaults(func=cmd_info)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
