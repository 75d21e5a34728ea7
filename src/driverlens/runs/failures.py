"""What a partner is told when a run fails: a stable code and a short message, never internals.

Server paths, temp file names and engine messages stay in the server log, under the run's trackingId
(``run-<run id>-<attempt>``), which the partner's message quotes so the operator can find them.
Stored run errors read ``"<Code>: <message>"``; ``split_error`` takes them apart for the API.
"""

from __future__ import annotations

import re
from enum import StrEnum

import duckdb

from driverlens.errors import QueryTimeout, ValidationFailed
from driverlens.retry import RUN_RETRY, RetryPolicy
from driverlens.runs.quotas import StorageQuotaExceeded


class RunErrorCode(StrEnum):
    """Stable codes partners can branch on (documented in docs/operations.md)."""

    TEMPLATE_INVALID = "TemplateInvalid"
    QUERY_REJECTED = "QueryRejected"
    QUERY_TIMEOUT = "QueryTimeout"
    STORAGE_QUOTA_EXCEEDED = "StorageQuotaExceeded"
    TEMPORARY_FAILURE = "TemporaryFailure"
    RETRIES_EXHAUSTED = "RetriesExhausted"
    WORKER_LOST = "WorkerLost"


#: Report runs: engine errors about the query itself (binding, conversion, unsupported constructs) and
#: invalid templates fail at once; I/O, memory and metadata-store trouble is retried.
RUN_POLICY = RetryPolicy(
    max_attempts=RUN_RETRY.max_attempts,
    base_delay_s=RUN_RETRY.base_delay_s,
    max_delay_s=RUN_RETRY.max_delay_s,
    multiplier=RUN_RETRY.multiplier,
    jitter=RUN_RETRY.jitter,
    permanent=(
        ValidationFailed,
        ValueError,
        QueryTimeout,
        StorageQuotaExceeded,
        duckdb.ProgrammingError,
        duckdb.DataError,
        duckdb.NotSupportedError,
        duckdb.IntegrityError,
    ),
    transient=(duckdb.OperationalError, OSError),
)

_STORED = re.compile(r"^([A-Z][A-Za-z]{2,40}): (.*)$", re.DOTALL)


def tracking_id(run_id: int, attempt: int) -> str:
    return f"run-{run_id}-{attempt}"


def stored(code: RunErrorCode, message: str) -> str:
    return f"{code.value}: {message}"


def split_error(error: str | None) -> tuple[str | None, str | None]:
    """(code, message) of a stored run error; runs stored before codes existed have no code."""
    if error is None:
        return None, None
    match = _STORED.match(error)
    if match is None:
        return None, error
    return match.group(1), match.group(2)


def query_rejected(tid: str) -> str:
    return (
        "the report query could not run on the event data; check the template's filter values and "
        f"columns, and contact the operator quoting trackingId {tid} if it looks right"
    )


def query_timeout(timeout_s: float) -> str:
    return (
        f"the report query ran longer than its time budget of {timeout_s:g} s and was stopped; narrow "
        "the template's period or filter"
    )


def temporary(tid: str, retry_in_s: float) -> str:
    return (
        f"a temporary error stopped this attempt; it is retried in about {retry_in_s:.0f} s "
        f"(trackingId {tid})"
    )


def exhausted(attempts: int, report_id: int, tid: str) -> str:
    return (
        f"the run failed {attempts} times with a temporary error and was given up; start a new run with "
        f"POST /analytics/driver/report/{report_id}/run, and contact the operator quoting trackingId {tid} "
        "if it keeps failing"
    )
