"""A partner's callback endpoint on 127.0.0.1: records every notice and checks its signature."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from driverlens.callbacks import signing


@dataclass(frozen=True)
class Notice:
    webhook_id: str
    body: dict[str, Any]
    signature_ok: bool


@dataclass
class Received:
    """What arrived, in order; a webhook-id may arrive more than once (delivery is at least once)."""

    notices: list[Notice] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def unique(self) -> dict[str, Notice]:
        """One notice per webhook-id (the dedup a receiver does)."""
        with self.lock:
            return {n.webhook_id: n for n in self.notices}

    @property
    def bad_signatures(self) -> int:
        with self.lock:
            return sum(1 for n in self.notices if not n.signature_ok)


@contextmanager
def callback_receiver(secret_of_report: Callable[[int], str | None]) -> Iterator[tuple[str, Received]]:
    """Serve on a free port; yields (url, received). ``secret_of_report`` gives the partner's secret."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            webhook_id = self.headers.get("webhook-id", "")
            try:
                payload = json.loads(body)
                secret = secret_of_report(int(payload["reportId"]))
                stamp = int(self.headers["webhook-timestamp"])
                ok = secret is not None and signing.sign(secret, webhook_id, stamp, body) == self.headers.get(
                    "webhook-signature"
                )
            except (ValueError, KeyError, TypeError):
                payload, ok = {}, False
            with received.lock:
                received.notices.append(Notice(webhook_id, payload, ok))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="callback-receiver", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
