"""``make demo``: the local stack (``feedline dev`` on a fresh SQLite file), the seeded world, the demo
page; prints the URL and runs until Ctrl-C (or SIGTERM), then stops everything it started.

Ports are free ones picked at start unless given (``--api-port``, ``--faye-port``, ``--web-port``).
``--json`` prints one JSON line with the URLs and the seeded world (the browser test reads it).
Builds nothing: ``make demo`` runs ``npm ci`` and ``node build.mjs`` first.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from seed import USERS, seed  # noqa: E402
from server import DIST, DemoServer  # noqa: E402

DEFAULT_KEY, DEFAULT_SECRET = "local-key", "local-secret-change-me-for-anything-shared"  # noqa: S105 (local stack)


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def start_stack(host: str, api_port: int, faye_port: int, data: Path, env: dict[str, str]) -> subprocess.Popen:
    """``feedline dev`` in a subprocess; returns once it listens (or raises with its output)."""
    log = open(data / "feedline-dev.log", "w+")  # the process writes it until it stops
    proc = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "feedline.cli", "dev", "--host", host, "--port", str(api_port),
         "--faye-port", str(faye_port)],
        # a session of its own: Ctrl-C reaches run.py alone, which stops the stack (SIGTERM, drained)
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"feedline dev exited with {proc.returncode}:\n{log.read()}")
        try:
            with socket.create_connection((host, api_port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"feedline dev did not listen on {host}:{api_port} within 60 s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--api-port", type=int, default=0, help="feedline dev's port (0: a free one)")
    p.add_argument("--faye-port", type=int, default=0, help="feedline dev's Faye port (0: a free one)")
    p.add_argument("--web-port", type=int, default=0, help="the demo page's port (0: a free one)")
    p.add_argument("--data", help="directory of the SQLite file and the server log (default: a fresh temporary one)")
    p.add_argument("--json", action="store_true", help="print the URLs and the seeded world as one JSON line")
    args = p.parse_args(argv)
    if not (DIST / "bundle.js").is_file():
        print("examples/web/dist is not built: run `make demo` (npm ci + node build.mjs)", file=sys.stderr)
        return 2
    host = args.host
    api_port = args.api_port or free_port(host)
    faye_port = args.faye_port or free_port(host)
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="feedline-demo-"))
    data.mkdir(parents=True, exist_ok=True)
    key = os.environ.get("FEEDLINE_API_KEY") or DEFAULT_KEY
    secret = os.environ.get("FEEDLINE_API_SECRET") or DEFAULT_SECRET
    app_id = os.environ.get("FEEDLINE_APP_ID") or "local"
    env = {**os.environ, "FEEDLINE_API_KEY": key, "FEEDLINE_API_SECRET": secret, "FEEDLINE_APP_ID": app_id,
           "FEEDLINE_CONFIG": str(HERE / "feedline.json"), "FEEDLINE_STORAGE": "sqlite",
           "FEEDLINE_SQLITE_PATH": str(data / "demo.db"), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C or a TERM: stop what was started, exit 0
        signal.signal(sig, lambda *_: stop.set())
    stack = start_stack(host, api_port, faye_port, data, env)
    web = None
    try:
        api_url, faye_url = f"http://{host}:{api_port}", f"http://{host}:{faye_port}/faye"
        web = DemoServer(host, args.web_port, api_key=key, api_secret=secret, app_id=app_id, api_url=api_url,
                         faye_url=faye_url, users=USERS).start()
        import stream

        # stream-python puts "api." before any host but localhost: the seed client says localhost
        seed_url = f"http://localhost:{api_port}"
        world = seed(stream.connect(key, secret, base_url=seed_url, timeout=20), web.url)
        page = f"{web.url}/?user=alice"
        if args.json:
            print(json.dumps({"page": page, "web": web.url, "api": api_url, "faye": faye_url, "app_id": app_id,
                              "api_key": key, "data": str(data), **world}), flush=True)
        else:
            print(f"\nFeedline demo: {page}\n  (other users: "
                  f"{', '.join(re.sub('alice$', u, page) for u in USERS if u != 'alice')})\n"
                  f"  API {api_url}/api/v1.0/, Faye {faye_url}, data in {data}\n  Ctrl-C stops everything.",
                  flush=True)
        while not stop.wait(0.5):
            if stack.poll() is not None:
                print(f"feedline dev exited with {stack.returncode}: see {data / 'feedline-dev.log'}", file=sys.stderr)
                return 1
    finally:
        if web is not None:
            web.stop()
        if stack.poll() is None:
            stack.terminate()
            try:
                stack.wait(15)
            except subprocess.TimeoutExpired:
                stack.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
