"""A small HTTP server for ``/metrics`` of a process that has no API (``driverlens worker``).

The standard library's threading server is enough: Prometheus scrapes every few seconds, and a scrape
renders counters in memory plus one grouped query. No auth, like the API's ``/metrics``: bind it to an
address only the scraper reaches.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MetricsServer:
    """Serves ``render()`` at ``GET /metrics`` and ``ok`` at ``GET /healthz`` in a background thread."""

    def __init__(self, host: str, port: int, render: Callable[[], str], alive: Callable[[], bool]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._answer(200, render(), CONTENT_TYPE)
                elif path == "/healthz":
                    ok = alive()
                    self._answer(200 if ok else 503, "ok\n" if ok else "stopping\n", "text/plain")
                else:
                    self._answer(404, "not found: GET /metrics or /healthz\n", "text/plain")

            def do_HEAD(self) -> None:
                self._answer(405, "", "text/plain")

            def _answer(self, status: int, text: str, content_type: str) -> None:
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # scrapes every few seconds would drown the worker's own log

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="driverlens-metrics", kwargs={"poll_interval": 0.2}
        )
        self._thread.daemon = True

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()
        log.info("metrics at http://%s:%d/metrics", *self.address)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
