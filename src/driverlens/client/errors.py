"""The client's exceptions: the server's error envelope turned into one class per failure mode."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ErrorDetail:
    """One item of the server's ``errors`` list."""

    code: str
    message: str
    target: str | None
    tracking_id: str

    def describe(self) -> str:
        return self.message


class DriverLensClientError(Exception):
    """Root of every error the DriverLens client raises."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: list[ErrorDetail] | None = None,
        tracking_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = list(errors or [])
        self.tracking_id = tracking_id

    @property
    def messages(self) -> list[str]:
        return [e.message for e in self.errors] or [self.message]

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors]

    @property
    def targets(self) -> list[str | None]:
        return [e.target for e in self.errors]


class ValidationError(DriverLensClientError):
    """400 (or 413): the request was invalid; ``errors`` lists every problem the server found."""


class AuthError(DriverLensClientError):
    """401 or 403: bad credentials, an unusable token, or a partner that may not do this."""


class NotFoundError(DriverLensClientError):
    """404: no such id for this partner."""


class ConflictError(DriverLensClientError):
    """409: the request conflicts with the current state (e.g. deleting a template in use)."""


class RateLimitedError(DriverLensClientError):
    """429 after every retry: the server asked to slow down."""

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_s = retry_after_s


class ServerError(DriverLensClientError):
    """5xx after every retry: a fault on the server (quote the tracking id when reporting it)."""


class NetworkError(DriverLensClientError):
    """The server could not be reached or the connection broke after every retry."""


class WaitTimeout(DriverLensClientError):
    """No run completed within the time allowed."""


class RunFailedError(DriverLensClientError):
    """The awaited run failed on the server."""


class ChecksumMismatchError(DriverLensClientError):
    """A downloaded file does not have the expected SHA-256 (the partial file was removed)."""


_BY_STATUS: dict[int, type[DriverLensClientError]] = {
    400: ValidationError,
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: ConflictError,
    413: ValidationError,
    416: ValidationError,
    429: RateLimitedError,
}


def _details(payload: Any, header_tracking: str | None) -> list[ErrorDetail]:
    """Error items from an envelope, or from an Azure AD style token error."""
    if not isinstance(payload, dict):
        return []
    items = payload.get("errors")
    details: list[ErrorDetail] = []
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                details.append(
                    ErrorDetail(
                        code=str(item.get("code") or ""),
                        message=str(item.get("message") or ""),
                        target=item.get("target") if isinstance(item.get("target"), str) else None,
                        tracking_id=str(item.get("trackingId") or header_tracking or ""),
                    )
                )
    elif isinstance(payload.get("error"), str):
        details.append(
            ErrorDetail(
                code=payload["error"],
                message=str(payload.get("error_description") or payload["error"]),
                target=None,
                tracking_id=str(payload.get("trace_id") or header_tracking or ""),
            )
        )
    return details


def error_from_response(
    response: httpx.Response, retry_after_s: float | None = None
) -> DriverLensClientError:
    """The exception for an unsuccessful response, carrying the server's messages and tracking id."""
    status = response.status_code
    header_tracking = response.headers.get("x-tracking-id")
    try:
        payload = json.loads(response.content) if response.content else None
    except ValueError:
        payload = None
    details = _details(payload, header_tracking)
    tracking_id = next((d.tracking_id for d in details if d.tracking_id), header_tracking)
    if details:
        summary = "; ".join(d.message for d in details)
    else:
        summary = (response.text or response.reason_phrase or "no details").strip()[:300]
    message = f"HTTP {status}: {summary}"
    if status == 429 and retry_after_s is not None:
        message += f"; retry after {retry_after_s:.0f} s"
    if tracking_id:
        message += f" (trackingId {tracking_id})"
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else DriverLensClientError)
    kwargs: dict[str, Any] = {"status": status, "errors": details, "tracking_id": tracking_id}
    if cls is RateLimitedError:
        return RateLimitedError(message, retry_after_s=retry_after_s, **kwargs)
    return cls(message, **kwargs)
