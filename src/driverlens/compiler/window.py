"""Who a query is for (scope) and which days it covers (window)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from driverlens.catalog import PartnerKind, ReportPeriod


@dataclass(frozen=True)
class Scope:
    """The partner a query runs for; the compiler always restricts rows to it."""

    kind: PartnerKind
    partner: str


@dataclass(frozen=True)
class DataWindow:
    """Failure dates ``start <= FailureDate < end`` (end exclusive)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"window end {self.end} must be after its start {self.start}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def window_for(period: ReportPeriod, due: datetime) -> DataWindow:
    """The whole UTC days a run due at ``due`` reports on: the ``period.days`` days before the due date."""
    if due.tzinfo is None:
        raise ValueError("due must be a timezone-aware datetime")
    due_date = due.astimezone(UTC).date()
    return DataWindow(start=due_date - timedelta(days=period.days), end=due_date)
