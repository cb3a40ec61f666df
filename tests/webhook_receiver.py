"""A real HTTP receiver of webhooks on a free loopback port (a thread of the test process): it records
every request, answers with the statuses it is told to (then 200), can hold requests until released, and
checks each signature as a receiver would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from orchestra.webhooks import signing


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery_id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: list[int] = []  # answered in order, then 200
        self.holding = threading.Event()  # set: requests wait (unanswered) until it is cleared
        self._released = threading.Condition()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver._lock:
                    receiver.received.append(Received(self.path, headers, body, time.time()))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                with receiver._released:
                    receiver._released.wait_for(lambda: not receiver.holding.is_set(), timeout=60)
                answer = json.dumps({"ok": status < 300}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="webhook receiver", daemon=True
        )
        self._thread.start()

    def release(self) -> None:
        with self._released:
            self.holding.clear()
            self._released.notify_all()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def of_type(self, event_type: str) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.headers.get("x-orchestra-event") == event_type]

    def wait_for(self, count: int, event_type: str | None = None, timeout_s: float = 60) -> list[Received]:
        """At least ``count`` requests (of ``event_type``), polling; AssertionError after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                items = [
                    item
                    for item in self.received
                    if event_type is None or item.headers.get("x-orchestra-event") == event_type
                ]
            if len(items) >= count:
                return items
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(items)} of {count} webhook requests within {timeout_s} s")
            time.sleep(0.05)

    @staticmethod
    def signed_by(secret: str, item: Received) -> bool:
        return signing.verify(secret, item.headers, item.body, now=int(time.time()))


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    try:
        yield receiver
    finally:
        receiver.close()
