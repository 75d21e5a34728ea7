"""Report data: the runs of a report due between two dates, with fresh download links."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from driverlens.errors import NotFound, Problem, ValidationFailed
from driverlens.metadata import RunState
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import runs as runs_repo
from driverlens.usecases.caller import Caller
from driverlens.usecases.timestamps import iso_utc, parse_day

MAX_RANGE_DAYS = 3660

# Signs a blob key, a download file name and (optionally) the file's SHA-256 into an absolute, expiring URL.
LinkMaker = Callable[[str, str, str | None], str]


@dataclass(frozen=True)
class ReportDataItem:
    due: datetime
    status: RunState
    location: str
    sha256: str | None = None
    store_version: int | None = None
    newest_event: datetime | None = None
    delta: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        # ReportSha256 is beyond the hosted API (clients ignore unknown keys): what a download must hash
        # to, so a client can verify a file without a second request; null until the run completes.
        return {
            "ReportDatetime": iso_utc(self.due),
            "ReportStatus": self.status.value,
            "ReportLocation": self.location,
            "ReportSha256": self.sha256,
            # Freshness, beyond the hosted API too: the event table version the run read and the newest
            # failure in it, so a quiet day can be told from a stalled pipeline.
            "DataStoreVersion": self.store_version,
            "DataNewestEventDatetime": iso_utc(self.newest_event) if self.newest_event else None,
            # Delta reports only: what changed since the previous completed run (docs/templates.md).
            **({"Delta": self.delta} if self.delta is not None else {}),
        }


def run_filename(report_id: int, due: datetime, manual: bool, fmt: str) -> str:
    """The file name a run's download is offered under."""
    stamp = due.strftime("%Y%m%dT%H%M%SZ")
    return f"report-{report_id}-{stamp}{'-manual' if manual else ''}.{fmt}"


def parse_date_range(start: str | None, end: str | None) -> tuple[date, date]:
    """``startDate``/``endDate`` query values (yyyy-mm-dd, both required, end not before start)."""
    problems: list[Problem] = []
    parsed: list[date | None] = []
    for name, raw in (("startDate", start), ("endDate", end)):
        if raw is None or not raw.strip():
            problems.append(Problem(name, "is required, as yyyy-mm-dd (e.g. 2026-01-31)"))
            parsed.append(None)
            continue
        day = parse_day(raw)
        if day is None:
            problems.append(Problem(name, f"must be a date as yyyy-mm-dd, got {raw[:40]!r}", value=raw[:40]))
        parsed.append(day)
    first, last = parsed
    if first is not None and last is not None:
        if last < first:
            problems.append(Problem("endDate", f"must not be before startDate ({first.isoformat()})"))
        elif (last - first).days > MAX_RANGE_DAYS:
            problems.append(Problem("endDate", f"the range may span at most {MAX_RANGE_DAYS} days"))
    if problems:
        raise ValidationFailed(problems)
    assert first is not None and last is not None
    return first, last


def report_data(
    db: Database,
    caller: Caller,
    report_id: int,
    start: date,
    end: date,
    link_for: LinkMaker,
) -> list[ReportDataItem]:
    """Runs due in [start, end] (whole UTC days, inclusive), oldest first; links only for Completed runs.

    One query (this endpoint is polled); the report itself is looked up only when no run matches, to
    tell "no runs yet" from "no such report".
    """
    lower = datetime.combine(start, time.min, tzinfo=UTC)
    upper = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    rows = runs_repo.runs_due_between(db, report_id, caller.partner_id, lower, upper)
    if rows is None:
        raise NotFound(f"scheduled report {report_id} does not exist", target="reportId")
    items = []
    for due, state, blob_key, manual, fmt, sha256, version, newest, delta in rows:
        location = ""
        if state is RunState.COMPLETED and blob_key:
            location = link_for(blob_key, run_filename(report_id, due, manual, fmt), sha256 or None)
        items.append(
            ReportDataItem(
                due, state, location, (sha256 or None) if location else None, version, newest, delta
            )
        )
    return items
