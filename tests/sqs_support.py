"""moto's server mode as the SQS endpoint, started by the fixtures, plus a pausable TCP proxy."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from tests.conftest import free_port, stop_process, wait_port

AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_SESSION_TOKEN": "testing"}


class MotoServer:
    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.log = open(log_dir / "moto.log", "w")
        exe = Path(sys.executable).parent / "moto_server"
        self.proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def client(self, endpoint: str | None = None):
        from feedline.fanout.queue import make_sqs_client

        return make_sqs_client(endpoint or self.endpoint)

    def queues(self, max_receive: int = 2, visibility: int = 1) -> tuple[str, str]:
        """A fresh fan-out queue with its dead-letter queue; returns (queue_url, dlq_url)."""
        c = self.client()
        name = f"fanout-{uuid.uuid4().hex[:8]}"
        dlq = c.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        arn = c.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        import json
        q = c.create_queue(QueueName=name, Attributes={
            "VisibilityTimeout": str(visibility),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": str(max_receive)}),
        })["QueueUrl"]
        return q, dlq

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    for k, v in AWS_ENV.items():
        os.environ.setdefault(k, v)
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


class FlakyProxy:
    """Forwards 127.0.0.1:port to a target; ``down = True`` makes it drop every connection."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.down = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.down:
                conn.close()
                continue
            threading.Thread(target=self._pipe, args=(conn,), daemon=True).start()

    def _pipe(self, conn: socket.socket) -> None:
        try:
            up = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            conn.close()
            return
        socks = [conn, up]
        try:
            while not self._stop:
                ready, _, _ = select.select(socks, [], [], 0.5)
                if self.down:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is conn else conn).sendall(data)
        except OSError:
            return
        finally:
            conn.close()
            up.close()

    def close(self) -> None:
        self._stop = True
        self.sock.close()
