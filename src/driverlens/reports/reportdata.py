"""Report data: the runs of a report due between two dates, with fresh download links."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from driverlens.errors import Problem, ValidationFailed
from driverlens.metadata import Run, RunState
from driverlens.metadata.database import Database
from driverlens.reports.caller import Caller
from driverlens.reports.scheduled import owned_report
from driverlens.reports.timestamps import iso_utc, parse_day

MAX_RANGE_DAYS = 3660
# Signs a blob key and a download file name into an absolute, expiring URL.
LinkMaker = Callable[[str, str], str]


@dataclass(frozen=True)
class ReportDataItem:
    due: datetime
    status: RunState
    location: str

    def to_json(self) -> dict[str, Any]:
        return {
            "ReportDatetime": iso_utc(self.due),
            "ReportStatus": self.status.value,
            "ReportLocation": self.location,
        }


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
    db: Database, caller: Caller, report_id: int, start: date, end: date, link_for: LinkMaker
) -> list[ReportDataItem]:
    """Runs due in [start, end] (whole UTC days, inclusive), oldest first; links only for Completed runs."""
    lower = datetime.combine(start, time.min, tzinfo=UTC)
    upper = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    with db.session() as session:
        report = owned_report(session, caller, report_id)
        runs = session.scalars(
            select(Run)
            .where(
                Run.report_id == report.id,
                Run.due_at >= lower,
                Run.due_at < upper,
                Run.state != RunState.SKIPPED,
            )
            .order_by(Run.due_at, Run.manual, Run.run_index)
        ).all()
    items = []
    for run in runs:
        location = ""
        if run.state is RunState.COMPLETED and run.location:
            stamp = run.due_at.strftime("%Y%m%dT%H%M%SZ")
            suffix = "-manual" if run.manual else ""
            filename = f"report-{report_id}-{stamp}{suffix}.{run.format}"
            location = link_for(run.location, filename)
        items.append(ReportDataItem(run.due_at, run.state, location))
    return items
