"""The exception hierarchy: one root, a class per failure mode, each mapping to an HTTP status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, what was given, and what is allowed."""

    path: str
    message: str
    value: Any = None
    code: str = "InvalidInput"

    def describe(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message}"


class DriverLensError(Exception):
    """Root of every error DriverLens raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "InternalError"

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target

    def problems(self) -> list[Problem]:
        return [Problem(path=self.target or "", message=self.message, code=self.code)]


class ValidationFailed(DriverLensError):
    """Input was invalid; carries every problem found, not just the first."""

    status = 400
    code = "InvalidInput"

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("ValidationFailed needs at least one problem")
        self._problems = list(problems)
        summary = "; ".join(p.describe() for p in self._problems[:5])
        more = len(self._problems) - 5
        if more > 0:
            summary += f" (and {more} more)"
        super().__init__(summary, target=self._problems[0].path or None)

    def problems(self) -> list[Problem]:
        return list(self._problems)


class Unauthorized(DriverLensError):
    status = 401
    code = "Unauthorized"


class Forbidden(DriverLensError):
    status = 403
    code = "Forbidden"


class NotFound(DriverLensError):
    status = 404
    code = "NotFound"


class Conflict(DriverLensError):
    status = 409
    code = "Conflict"


class RequestTimeout(DriverLensError):
    """The client took longer than allowed to send its request."""

    status = 408
    code = "RequestTimeout"


class PayloadTooLarge(DriverLensError):
    status = 413
    code = "PayloadTooLarge"


class RateLimited(DriverLensError):
    status = 429
    code = "TooManyRequests"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class QueryTimeout(DriverLensError):
    """A query ran past its time budget."""

    status = 400
    code = "QueryTimeout"


class IngestError(DriverLensError):
    """A file could not be loaded; nothing from it was stored."""

    status = 400
    code = "IngestRejected"


class CabRejected(DriverLensError):
    """A crash dump cabinet is malformed, truncated, hostile or holds no readable dump; nothing was stored."""

    status = 400
    code = "CabRejected"


class ServiceUnavailable(DriverLensError):
    status = 503
    code = "ServiceUnavailable"


class BlobStoreUnavailable(ServiceUnavailable):
    """The blob store (Azure Blob Storage) did not answer; runs retry, requests may be repeated."""

    code = "BlobStoreUnavailable"
