"""Pure ASGI middleware: tracking id, body size limit, access log, metrics, last-resort 500."""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import time
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from driverlens.api.envelope import error_item, failure
from driverlens.api.metrics import Metrics
from driverlens.api.slowclients import BodyDeadline
from driverlens.errors import PayloadTooLarge
from driverlens.observability import logs

log = logging.getLogger("driverlens.api")
access_log = logging.getLogger("driverlens.api.access")

TRACKING_HEADER = b"x-tracking-id"


class TrackingIds:
    """Unique request ids without a system call each: a random per-process prefix and a counter."""

    def __init__(self) -> None:
        self._prefix = f"{secrets.token_hex(6)}{os.getpid() & 0xFFFF:04x}"
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):012x}"


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is larger than the limit of {limit} bytes; send a smaller body", target="body"
    )


class RequestContextMiddleware:
    """Wraps every HTTP request; the only place that knows about all of them."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        metrics: Metrics,
        large_bodies: Mapping[str, int] | None = None,
        body_timeout_s: float = 30.0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # Paths that take files (crash dump uploads) with their own limit; they stream, never buffer.
        self.large_bodies = dict(large_bodies or {})
        self.body_timeout_s = body_timeout_s
        self.metrics = metrics
        self.tracking_ids = TrackingIds()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracking_id = self.tracking_ids.next()
        scope.setdefault("state", {})["tracking_id"] = tracking_id
        # Every line logged while serving this request carries its id (JSON log format).
        context_token = logs.tracking_id.set(tracking_id)
        started = time.perf_counter()
        response: dict[str, Any] = {"status": 500, "started": False}
        limit = self.large_bodies.get(scope["path"], self.max_body_bytes)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["started"] = True
                message["headers"] = [*message.get("headers", []), (TRACKING_HEADER, tracking_id.encode())]
            await send(message)

        received = 0
        if _may_have_body(scope):
            # A file upload may legitimately take longer than the whole-body budget: there the budget
            # bounds the wait for each chunk instead, so a stalled sender is still cut off.
            idle = scope["path"] in self.large_bodies
            receive = BodyDeadline(receive, self.body_timeout_s, per_chunk=idle)

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        try:
            declared = _content_length(scope)
            if declared is not None and declared > limit:
                exc = _too_large(limit)
                items = [error_item(exc.code, exc.message, exc.target, tracking_id)]
                await failure(413, items, {"Connection": "close"})(scope, receive, send_with_id)
            else:
                await self.app(scope, limited_receive, send_with_id)
        except Exception:
            log.exception("unhandled error trackingId=%s", tracking_id)
            if not response["started"]:
                message = "internal server error; quote the trackingId when reporting it"
                items = [error_item("InternalError", message, None, tracking_id)]
                await failure(500, items)(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route_path, response["status"], elapsed)
            access_log.info(
                '%s %s %s %.1fms trackingId=%s client="%s"',
                scope["method"],
                scope["path"],
                response["status"],
                elapsed * 1000,
                tracking_id,
                scope.get("state", {}).get("client_id", "-"),
            )
            logs.tracking_id.reset(context_token)


def _may_have_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
