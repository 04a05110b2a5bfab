"""Benchmark of realtime publish fan-out in ``feedline dev`` (subscribers reached per second).

    .venv/bin/python bench/bench_realtime.py [--quick]

1. ``hub``: ``Hub.publish`` of one new activity to a feed with N subscribers (one message build,
   N outbox appends, the transports' wake-ups), side by side with building the message once per
   subscriber (what "one build per publish" saves). Medians of interleaved rounds.
2. ``websocket``: the same publish to N real WebSocket clients of the local Faye endpoint (uvicorn,
   one asyncio client process): from ``publish`` to the last client holding the message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import jwt  # noqa: E402
from timing import interleaved, median  # noqa: E402

from feedline.config import AppConfig  # noqa: E402
from feedline.models import ids  # noqa: E402
from feedline.realtime.hub import Hub  # noqa: E402
from feedline.realtime.messages import Added, FeedChange, encode  # noqa: E402

SECRET = "bench-secret-0123456789-0123456789"  # noqa: S105 - a throwaway signing key
APP = AppConfig("key", SECRET, app_id="local")
CHANNEL = "/site-local-feed-user1"
KEY = ids.uuid_to_key("6045bfa0-a467-11e7-8080-80005886bfee")
BODY = json.dumps({"id": "6045bfa0-a467-11e7-8080-80005886bfee", "actor": "user:1", "verb": "post",
                   "object": "post:1", "foreign_id": "post:1", "time": "2017-09-26T13:00:00.000000",
                   "message": "x" * 300}).encode()
CHANGE = [FeedChange("user:1", [Added(KEY, BODY)])]


def hub_with(n: int) -> Hub:
    hub = Hub("local", max_outbox=10**6)
    for i in range(n):
        hub.open(f"c{i}", None)
        hub.subscribe(f"c{i}", CHANNEL, None)
        hub.attach(f"c{i}", lambda: None)
    return hub


def section_hub(quick: bool) -> list[str]:
    out = ["| publish to N subscribers (hub) | N | one build: µs per publish | subscribers/s | "
           "a build per subscriber: µs | ratio |", "|---|---:|---:|---:|---:|---:|"]
    for n in (1, 100, 1000, 10000):
        hub = hub_with(n)
        clients = list(hub.clients.values())

        def once(hub: Hub = hub, clients: list = clients) -> None:
            hub.publish(CHANGE)
            for c in clients:
                c.outbox.clear()

        def per_subscriber(clients: list = clients) -> None:
            for c in clients:
                c.outbox.append(encode("local", CHANGE[0])[1])
                c.outbox.clear()

        rounds, number = (5, max(1, 200 // n)) if quick else (31, max(1, 5000 // n))
        res = interleaved({"once": once, "each": per_subscriber}, rounds, number)
        a, b = median(res["once"]), median(res["each"])
        out.append(f"| hub.publish | {n} | {a:,.1f} | {n / a * 1e6:,.0f} | {b:,.1f} | {b / a:.1f}x |")
    return out


async def _ws_round(url: str, hub: Hub, n: int, rounds: int) -> list[float]:
    from websockets.asyncio.client import connect

    token = jwt.encode({"user_id": "1"}, SECRET, algorithm="HS256")
    sockets = []
    for _ in range(n):
        ws = await connect(url, max_queue=None)
        await ws.send(json.dumps([{"channel": "/meta/handshake", "version": "1.0",
                                   "supportedConnectionTypes": ["websocket"]}]))
        cid = json.loads(await ws.recv())[0]["clientId"]
        await ws.send(json.dumps([{"channel": "/meta/subscribe", "clientId": cid, "subscription": CHANNEL,
                                   "ext": {"user_id": CHANNEL[1:], "api_key": "key", "signature": token}}]))
        assert json.loads(await ws.recv())[0]["successful"] is True
        sockets.append(ws)
    times = []
    loop = asyncio.get_running_loop()
    for _ in range(rounds):
        start = time.perf_counter()
        await loop.run_in_executor(None, hub.publish, CHANGE)  # as a function invocation's thread does
        await asyncio.gather(*(ws.recv() for ws in sockets))
        times.append(time.perf_counter() - start)
    for ws in sockets:
        await ws.close()
    return times


def section_websocket(quick: bool) -> list[str]:
    from feedline.local.faye import FayeServer, build

    out = ["| publish to N WebSocket clients (local Faye) | N | median ms to the last client | subscribers/s |",
           "|---|---:|---:|---:|"]
    for n in (10, 100, 500):
        app, hub = build(APP, timeout_s=60)
        server = FayeServer(app, "127.0.0.1", 0)
        server.start()
        time.sleep(0.3)
        try:
            times = asyncio.run(_ws_round(f"ws://127.0.0.1:{server.port}/faye/", hub, n, 5 if quick else 21))
        finally:
            server.stop()
        m = statistics.median(times)
        out.append(f"| Faye over WebSocket | {n} | {m * 1000:,.1f} | {n / m:,.0f} |")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print("\n".join(section_hub(args.quick)), "\n")
    print("\n".join(section_websocket(args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
