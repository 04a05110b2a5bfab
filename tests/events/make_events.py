"""Regenerate the Lambda test events in this folder (run from the repo root, with the venv).

    SAM_CLI_TELEMETRY=0 .venv/bin/python tests/events/make_events.py

Starts from `sam local generate-event` (apigateway http-api-proxy, sqs receive-message) and edits
them into what API Gateway (HTTP API, payload 2.0) and the SQS event source send for template.yaml's
routes. Credentials: those of `make run` (api key ``local-key``, api secret
``local-secret-change-me-for-anything-shared``); the Authorization header is
an HS256 server token with scope ``{"resource": "*", "action": "*", "feed_id": "*"}`` (no ``exp``).
So ``feedline invoke WriteFunction --event tests/events/add_activity.json`` works as the README says, and
``sam local invoke WriteFunction -e tests/events/add_activity.json`` where Docker exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import jwt

HERE = Path(__file__).resolve().parent
API_KEY, API_SECRET = "local-key", "local-secret-change-me-for-anything-shared"  # as `make run`
TOKEN = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
FANOUT_ACTIVITY = "4a016000-a89d-11ee-8080-2f80e33ef123"  # the id add_activity.json creates (time + foreign_id)
SAM = [str(Path(sys.executable).with_name("sam"))]


def generate(*args: str) -> dict:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    out = subprocess.run([*SAM, "local", "generate-event", *args], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


def http_event(method: str, path: str, body: dict | None, request_id: str, time_epoch_ms: int) -> dict:
    route = "/api/v1.0/{proxy+}"
    ev = generate("apigateway", "http-api-proxy", "--method", method, "--path", path.lstrip("/"))
    # what an HTTP API without authorizer / mTLS / stage variables sends for template.yaml's route
    for key in ("cookies", "stageVariables", "body"):
        ev.pop(key, None)
    ctx = ev["requestContext"]
    for key in ("authentication", "authorizer"):
        ctx.pop(key, None)
    ev["routeKey"] = ctx["routeKey"] = f"{method} {route}"
    ev["rawPath"] = ctx["http"]["path"] = path
    ev["rawQueryString"] = f"api_key={API_KEY}"
    ev["queryStringParameters"] = {"api_key": API_KEY}
    ev["pathParameters"] = {"proxy": path[len("/api/v1.0/"):]}
    ev["headers"] = {  # HTTP APIs lower-case header names
        "accept": "application/json",
        "authorization": TOKEN,
        "stream-auth-type": "jwt",
        "x-stream-client": "stream-python-client-5.4.0",
        "host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "user-agent": "python-requests/2.32.3",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    ctx["http"].update(method=method, sourceIp="203.0.113.10", userAgent="python-requests/2.32.3")
    ctx.update(apiId="abcdef1234", domainName="abcdef1234.execute-api.us-east-1.amazonaws.com",
               domainPrefix="abcdef1234", requestId=request_id, timeEpoch=time_epoch_ms,
               time="01/Jan/2024:12:00:00 +0000")
    ev["isBase64Encoded"] = False
    if body is not None:
        ev["body"] = json.dumps(body, separators=(",", ":"))
        ev["headers"]["content-type"] = "application/json"
        ev["headers"]["content-length"] = str(len(ev["body"]))
    return ev


def sqs_event() -> dict:
    ev = generate("sqs", "receive-message")
    rec = ev["Records"][0]
    rec["body"] = json.dumps({"v": 1, "op": "add", "activity": FANOUT_ACTIVITY, "source": "user:1"},
                             separators=(",", ":"))
    rec["md5OfBody"] = hashlib.md5(rec["body"].encode(), usedforsecurity=False).hexdigest()  # SQS's own body checksum
    rec["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:feedline-FanoutQueue-ABCDEF123456"
    return ev


def main() -> None:
    events = {
        "add_activity.json": http_event(
            "POST", "/api/v1.0/feed/user/1/",
            {"actor": "user:1", "verb": "tweet", "object": "tweet:1", "foreign_id": "tweet:1",
             "time": "2024-01-01T12:00:00", "message": "hello from tests/events"},
            "Ks1a2b3cIAMEJ0A=", 1704110400000),
        "read_feed.json": http_event("GET", "/api/v1.0/feed/user/1/", None, "Ks1a2b4dIAMEJ1B=", 1704110401000),
        "fanout_sqs.json": sqs_event(),
    }
    for name, ev in events.items():
        (HERE / name).write_text(json.dumps(ev, indent=2) + "\n")
        print(f"wrote tests/events/{name}")


if __name__ == "__main__":
    main()
