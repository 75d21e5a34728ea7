"""The one place where exceptions become error envelopes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from driverlens.api.envelope import error_item, error_items, failure
from driverlens.errors import DriverLensError, RateLimited, RequestTimeout, Unauthorized

log = logging.getLogger("driverlens.api")

BEARER_CHALLENGE = 'Bearer realm="driverlens", error="invalid_token"'


def tracking_id_of(request: Request) -> str:
    return str(getattr(request.state, "tracking_id", "") or "")


async def driverlens_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DriverLensError)
    tracking_id = tracking_id_of(request)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = BEARER_CHALLENGE
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if isinstance(exc, RequestTimeout):
        headers["Connection"] = "close"  # the rest of the body may still trickle in: do not wait for it
    if exc.status >= 500:
        log.error("request failed: %s trackingId=%s", exc.message, tracking_id)
    return failure(exc.status, error_items(exc, tracking_id), headers)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) if parts else ".".join(str(p) for p in loc)


async def request_validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's parameter validation failures: a 400 listing every problem (never a 422)."""
    assert isinstance(exc, RequestValidationError)
    tracking_id = tracking_id_of(request)
    items = []
    for err in exc.errors():
        target = _location(tuple(err.get("loc", ())))
        given = err.get("input")
        message = f"{target}: {err.get('msg', 'invalid value')}"
        if given is not None and not isinstance(given, dict | list):
            message += f" (got {given!r})"
        items.append(error_item("InvalidInput", message, target or None, tracking_id))
    return failure(400, items)


_HTTP_CODES = {404: "NotFound", 405: "MethodNotAllowed", 400: "InvalidInput", 401: "Unauthorized"}


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method) in the same envelope."""
    assert isinstance(exc, StarletteHTTPException)
    tracking_id = tracking_id_of(request)
    code = _HTTP_CODES.get(exc.status_code, "HttpError")
    if exc.status_code == 404:
        message = f"no resource at {request.url.path}; see /openapi.json for the available paths"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    headers = dict(exc.headers or {})
    return failure(exc.status_code, [error_item(code, message, None, tracking_id)], headers)


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DriverLensError, driverlens_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
