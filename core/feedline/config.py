"""Configuration: read once per cold start, explicit everywhere else.

Environment variable *names* live here as constants; ``Settings.from_env`` is the only reader, and
an explicit argument to any constructor beats the environment. Nothing here runs at import.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from feedline.errors import FeedConfigException

ENV_API_KEY = "FEEDLINE_API_KEY"
ENV_API_SECRET = "FEEDLINE_API_SECRET"  # noqa: S105 - a variable name, not a secret
#: on AWS: the Secrets Manager secret holding the API secret, fetched at cold start
ENV_API_SECRET_NAME = "FEEDLINE_API_SECRET_NAME"  # noqa: S105 - a variable name
ENV_CONFIG = "FEEDLINE_CONFIG"
ENV_STORAGE = "FEEDLINE_STORAGE"
ENV_SQLITE_PATH = "FEEDLINE_SQLITE_PATH"
ENV_QUEUE = "FEEDLINE_QUEUE"
ENV_DELIVERY = "FEEDLINE_DELIVERY"
ENV_QUEUE_URL = "FEEDLINE_QUEUE_URL"
ENV_SQS_ENDPOINT = "FEEDLINE_SQS_ENDPOINT"
ENV_CASSANDRA_HOSTS = "FEEDLINE_CASSANDRA_HOSTS"
ENV_CASSANDRA_PORT = "FEEDLINE_CASSANDRA_PORT"
ENV_CASSANDRA_KEYSPACE = "FEEDLINE_CASSANDRA_KEYSPACE"
ENV_CASSANDRA_DC = "FEEDLINE_CASSANDRA_DC"
ENV_CASSANDRA_KEYSPACES = "FEEDLINE_CASSANDRA_KEYSPACES"
ENV_CASSANDRA_PROTOCOL = "FEEDLINE_CASSANDRA_PROTOCOL"
ENV_CASSANDRA_USERNAME = "FEEDLINE_CASSANDRA_USERNAME"
ENV_CASSANDRA_PASSWORD = "FEEDLINE_CASSANDRA_PASSWORD"  # noqa: S105 - a variable name
ENV_FANOUT_CHUNK = "FEEDLINE_FANOUT_CHUNK_SIZE"
ENV_INLINE_FANOUT = "FEEDLINE_INLINE_FANOUT"
ENV_DLQ_URL = "FEEDLINE_DLQ_URL"
#: the app id stream-js puts in realtime channel names (``stream.connect(key, secret, app_id)``)
ENV_APP_ID = "FEEDLINE_APP_ID"
#: the API Gateway management endpoint of the realtime WebSocket API (AWS; unset: no push)
ENV_REALTIME_ENDPOINT = "FEEDLINE_REALTIME_ENDPOINT"
#: "1": Open Graph may fetch pages on loopback/private addresses (local stacks and tests; docs/api.md §18)
ENV_OG_ALLOW_PRIVATE = "FEEDLINE_OG_ALLOW_PRIVATE"
#: the public origin file URLs are built on (``https://cdn.example.com``); unset: the request's own host
ENV_MEDIA_BASE_URL = "FEEDLINE_MEDIA_BASE_URL"
#: uploaded files in this S3 bucket instead of the database (docs/api.md §17); S3's endpoint (moto, MinIO)
ENV_FILES_BUCKET = "FEEDLINE_FILES_BUCKET"
ENV_S3_ENDPOINT = "FEEDLINE_S3_ENDPOINT"
#: the app id when none is configured (docs/api.md §16)
DEFAULT_APP_ID = "local"

FLAT, AGGREGATED, NOTIFICATION = "flat", "aggregated", "notification"
GROUP_TYPES = (FLAT, AGGREGATED, NOTIFICATION)
#: (a module constant: a slots dataclass's class attribute is a descriptor, not the default)
DEFAULT_SQLITE_PATH = ".feedline/feedline.db"
DEFAULT_AGGREGATION_FORMAT = '{{ verb }}_{{ time.strftime("%Y-%m-%d") }}'
#: a ranked read scores the newest RANK_WINDOW entries of a feed (docs/ranking.md)
DEFAULT_RANK_WINDOW = 1000


@dataclass(frozen=True, slots=True)
class FeedGroup:
    """One feed group (``user``, ``timeline``, ...) and its options."""

    name: str
    type: str = FLAT
    aggregation_format: str = DEFAULT_AGGREGATION_FORMAT
    max_group_activities: int = 15
    #: aggregated/notification feeds group the newest ``max_length`` entries (older ones age out)
    max_length: int = 1000
    #: user tokens may read other users' feeds of this group (Stream: ``user`` yes, ``timeline`` no)
    public_read: bool = False
    #: user tokens may target other users' feeds of this group through ``to`` (``notification``)
    others_can_target: bool = False
    #: flat groups: named ranking methods, as configured (``{name: {score, defaults, functions}}``);
    #: compiled by the feeds room when the services are built (``feeds.ranked.Rankings``), so a bad
    #: one stops the stack at start-up. Kept raw here: configuration knows no expression language.
    ranking: Mapping[str, Any] | None = field(default=None, hash=False)
    #: how many of a feed's newest entries a ranked read scores
    rank_window: int = DEFAULT_RANK_WINDOW

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> FeedGroup:
        kind = data.get("type", FLAT)
        if kind not in GROUP_TYPES:
            raise FeedConfigException(f"feed group {name!r}: type must be one of {', '.join(GROUP_TYPES)}")
        known = {f for f in cls.__dataclass_fields__ if f != "name"}
        unknown = set(data) - known
        if unknown:
            raise FeedConfigException(f"feed group {name!r}: unknown options {sorted(unknown)}")
        group = cls(name=name, **dict(data))
        if not 1 <= group.max_group_activities <= 100:
            raise FeedConfigException(f"feed group {name!r}: max_group_activities must be 1..100")
        if not 1 <= group.max_length <= 10_000:
            raise FeedConfigException(f"feed group {name!r}: max_length must be 1..10000")
        if group.ranking is not None and group.type != FLAT:
            raise FeedConfigException(f"feed group {name!r}: ranking methods are for flat feed groups")
        if type(group.rank_window) is not int or not 1 <= group.rank_window <= 10_000:
            raise FeedConfigException(f"feed group {name!r}: rank_window must be 1..10000")
        return group


def default_groups() -> dict[str, FeedGroup]:
    """The groups stream-python's own tests assume (docs/api.md §2.4)."""
    return {
        "user": FeedGroup("user", FLAT, public_read=True),
        "flat": FeedGroup("flat", FLAT),
        "topic": FeedGroup("topic", FLAT, public_read=True),
        "timeline": FeedGroup("timeline", FLAT),
        "aggregated": FeedGroup("aggregated", AGGREGATED),
        "notification": FeedGroup("notification", NOTIFICATION, others_can_target=True),
    }


@dataclass(frozen=True, slots=True)
class AppConfig:
    api_key: str
    api_secret: str
    groups: Mapping[str, FeedGroup] = field(default_factory=default_groups)
    #: realtime channels are ``/site-{app_id}-feed-...`` (letters, digits, _)
    app_id: str = DEFAULT_APP_ID

    def group(self, slug: str) -> FeedGroup:
        try:
            return self.groups[slug]
        except KeyError:
            raise FeedConfigException(f"The feed group {slug!r} does not exist") from None


@dataclass(frozen=True, slots=True)
class Settings:
    app: AppConfig
    storage: str = "sqlite"
    sqlite_path: str = DEFAULT_SQLITE_PATH
    queue: str = "embedded"
    delivery: str = "sync"
    queue_url: str = ""
    sqs_endpoint: str = ""
    cassandra_hosts: tuple[str, ...] = ("127.0.0.1",)
    cassandra_port: int = 9042
    cassandra_keyspace: str = "feedline"
    cassandra_dc: str = "datacenter1"
    #: Amazon Keyspaces: TLS on 9142, protocol v4, SigV4 auth (the `keyspaces` extra)
    cassandra_keyspaces: bool = False
    cassandra_protocol_version: int | None = None
    cassandra_username: str = ""
    cassandra_password: str = ""
    fanout_chunk_size: int = 500
    #: audiences up to this many followers are written by the write function itself (0: never)
    inline_fanout: int = 0
    dlq_url: str = ""
    #: where the write and fan-out functions push realtime messages (API Gateway management API)
    realtime_endpoint: str = ""
    #: Open Graph: fetch pages on loopback/private addresses too (never on a deployed stack)
    og_allow_private: bool = False
    #: files and images: the origin of the URLs handed out (empty: the request's host)
    media_base_url: str = ""
    #: files and images in S3 (empty: in the database)
    files_bucket: str = ""
    s3_endpoint: str = ""

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 fetch_secret: Callable[[str], str] | None = None) -> Settings:
        """``fetch_secret(name)`` resolves ``FEEDLINE_API_SECRET_NAME`` when no secret is given
        directly (the runtime passes ``feedline.secrets.fetch_secret``)."""
        env = os.environ if environ is None else environ
        file_data: dict[str, Any] = {}
        if env.get(ENV_CONFIG):
            file_data = json.loads(Path(env[ENV_CONFIG]).read_text())
        key = env.get(ENV_API_KEY) or file_data.get("api_key")
        secret = env.get(ENV_API_SECRET) or file_data.get("api_secret")
        if not secret and env.get(ENV_API_SECRET_NAME) and fetch_secret is not None:
            secret = fetch_secret(env[ENV_API_SECRET_NAME])
        if not key or not secret:
            raise RuntimeError(
                f"set {ENV_API_KEY} and {ENV_API_SECRET} or {ENV_API_SECRET_NAME} (or api_key/api_secret in "
                f"the {ENV_CONFIG} file)"
            )
        groups = default_groups()
        if "feed_groups" in file_data:
            groups = {n: FeedGroup.from_dict(n, d) for n, d in file_data["feed_groups"].items()}
        app_id = env.get(ENV_APP_ID) or str(file_data.get("app_id") or DEFAULT_APP_ID)
        if not re.fullmatch(r"[A-Za-z0-9_]+", app_id):
            raise RuntimeError(f"{ENV_APP_ID} must be letters, digits and _ (it is part of channel names)")
        app = AppConfig(key, secret, groups, app_id)
        storage = env.get(ENV_STORAGE, "sqlite")
        if storage not in ("sqlite", "cassandra"):
            raise RuntimeError(f"{ENV_STORAGE} must be sqlite or cassandra")
        queue = env.get(ENV_QUEUE) or ("sqs" if env.get(ENV_QUEUE_URL) else "embedded")
        media_base_url = env.get(ENV_MEDIA_BASE_URL, "").rstrip("/")
        if media_base_url and not re.fullmatch(r"https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?", media_base_url):
            raise RuntimeError(f"{ENV_MEDIA_BASE_URL} must be an http(s) origin, optionally with a path")
        return cls(
            app=app,
            storage=storage,
            sqlite_path=env.get(ENV_SQLITE_PATH, DEFAULT_SQLITE_PATH),
            queue=queue,
            delivery=env.get(ENV_DELIVERY, "sync"),
            queue_url=env.get(ENV_QUEUE_URL, ""),
            sqs_endpoint=env.get(ENV_SQS_ENDPOINT, ""),
            cassandra_hosts=tuple(h.strip() for h in env.get(ENV_CASSANDRA_HOSTS, "127.0.0.1").split(",") if h.strip()),
            cassandra_port=int(env.get(ENV_CASSANDRA_PORT) or (
                "9142" if env.get(ENV_CASSANDRA_KEYSPACES, "").lower() in ("1", "true", "yes") else "9042")),
            cassandra_keyspace=env.get(ENV_CASSANDRA_KEYSPACE, "feedline"),
            cassandra_dc=env.get(ENV_CASSANDRA_DC, "datacenter1"),
            cassandra_keyspaces=env.get(ENV_CASSANDRA_KEYSPACES, "").lower() in ("1", "true", "yes"),
            cassandra_protocol_version=int(env[ENV_CASSANDRA_PROTOCOL]) if env.get(ENV_CASSANDRA_PROTOCOL) else None,
            cassandra_username=env.get(ENV_CASSANDRA_USERNAME, ""),
            cassandra_password=env.get(ENV_CASSANDRA_PASSWORD, ""),
            fanout_chunk_size=int(env.get(ENV_FANOUT_CHUNK, "500")),
            inline_fanout=int(env.get(ENV_INLINE_FANOUT, "0")),
            dlq_url=env.get(ENV_DLQ_URL, ""),
            realtime_endpoint=env.get(ENV_REALTIME_ENDPOINT, ""),
            og_allow_private=env.get(ENV_OG_ALLOW_PRIVATE, "").lower() in ("1", "true", "yes"),
            media_base_url=media_base_url,
            files_bucket=env.get(ENV_FILES_BUCKET, ""),
            s3_endpoint=env.get(ENV_S3_ENDPOINT, ""),
        )
