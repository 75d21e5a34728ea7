"""Bounded receive times: a client gets a fixed time to send its headers, and another for its body.

Headers arrive before any ASGI code runs, so their deadline lives in the HTTP protocol (a uvicorn
httptools protocol with one timer per request); the body deadline is enforced around ``receive`` by
``RequestContextMiddleware`` (``BodyDeadline`` below), which answers 408 in the usual envelope.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.types import Message, Receive
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from driverlens.errors import RequestTimeout

_HEADER_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)


def bounded_protocol(header_timeout_s: float) -> type[HttpToolsProtocol]:
    """A uvicorn HTTP protocol class that closes connections whose headers take too long (408)."""

    class HeaderBoundedProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()  # a connection that never sends a byte is bounded too

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()  # each request on a kept-alive connection gets its own deadline

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self.transport.is_closing():
                return
            body = (
                b'{"data":null,"errors":[{"code":"RequestTimeout","message":"the request line and headers '
                b'did not arrive within %g s; send the whole request at once","target":null,'
                b'"trackingId":""}]}' % header_timeout_s
            )
            self.transport.write(_HEADER_TIMEOUT_RESPONSE % (len(body), body))
            self.transport.close()

    return HeaderBoundedProtocol


class BodyDeadline:
    """Wraps ``receive`` so the whole body must arrive within ``timeout_s`` of the request's start
    (``per_chunk``: each piece of it within ``timeout_s`` of the previous one)."""

    def __init__(self, receive: Receive, timeout_s: float, *, per_chunk: bool = False) -> None:
        self._receive = receive
        self._deadline = time.monotonic() + timeout_s
        self._timeout_s = timeout_s
        self._per_chunk = per_chunk
        self._body_done = False

    async def __call__(self) -> Message:
        if self._body_done:
            # After the body, receive only waits for a disconnect; that wait is not bounded.
            return await self._receive()
        remaining = self._deadline - time.monotonic()
        try:
            message: dict[str, Any] = dict(await asyncio.wait_for(self._receive(), max(remaining, 0.001)))
        except TimeoutError as exc:
            raise RequestTimeout(
                f"the request body did not arrive within {self._timeout_s:g} s; send the body at once",
                target="body",
            ) from exc
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._body_done = True
        elif self._per_chunk:
            self._deadline = time.monotonic() + self._timeout_s
        return message
