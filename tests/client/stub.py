"""A tiny scripted HTTP server on 127.0.0.1 for what a real DriverLens server will not do on demand
(429 then 200, a 503, a connection dropped mid-file)."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b'{"data": [], "errors": []}'
    headers: dict[str, str] = field(default_factory=dict)


def envelope_error(status: int, code: str, message: str, target: str | None = None) -> Reply:
    item = {"code": code, "message": message, "target": target, "trackingId": f"track-{status}"}
    return Reply(status, json.dumps({"data": None, "errors": [item]}).encode())


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FileSpec:
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)
    drop_after: list[int] = field(default_factory=list)
    """For each of the first requests, close the connection after this many body bytes."""
    ranges: bool = True
    """False: ignore Range headers and always send the whole file (allowed by RFC 9110)."""


class Stub:
    def __init__(self) -> None:
        self.plans: dict[str, deque[Reply]] = defaultdict(deque)
        self.files: dict[str, FileSpec] = {}
        self.seen: list[Seen] = []
        self.token_lifetime = 3599
        self.tokens_issued = 0
        self.base_url = ""

    def plan(self, path: str, *replies: Reply) -> None:
        self.plans[path].extend(replies)

    def hits(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path.split("?")[0] == path]


_RANGE = re.compile(r"bytes=(\d+)-")


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            headers = {"Content-Type": "application/json", **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def _file(self, spec: FileSpec) -> None:
            size = len(spec.content)
            match = _RANGE.match(self.headers.get("Range") or "") if spec.ranges else None
            start = int(match.group(1)) if match else 0
            if start >= size and match:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206 if match else 200)
            for name, value in spec.headers.items():
                self.send_header(name, value)
            if match:
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            self.send_header("Content-Length", str(size - start))
            self.end_headers()
            body = spec.content[start:]
            if spec.drop_after:
                cut = spec.drop_after.pop(0)
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            stub.seen.append(Seen(self.command, self.path, dict(self.headers), body))
            path = self.path.split("?")[0]
            if path.endswith("/oauth2/token"):
                stub.tokens_issued += 1
                token = {
                    "token_type": "Bearer",
                    "access_token": f"tok-{stub.tokens_issued}",
                    "expires_in": str(stub.token_lifetime),
                }
                self._send(Reply(200, json.dumps(token).encode()))
            elif path in stub.files:
                self._file(stub.files[path])
            elif stub.plans[path]:
                self._send(stub.plans[path].popleft())
            else:
                self._send(Reply(200))

        do_GET = do_POST = do_DELETE = _handle

    return Handler


@contextmanager
def running_stub() -> Iterator[Stub]:
    stub = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    stub.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
