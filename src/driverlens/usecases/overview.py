"""The dashboard overview: failures per day, top and new failure buckets, failures by driver version.

Every query is a template compiled for the caller (see ``usecases.glance``): the caller's rows only,
a 30- or 90-day window, and a row limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from driverlens.compiler import DataWindow
from driverlens.engines import Engine
from driverlens.usecases.caller import Caller
from driverlens.usecases.glance import Filters, day_range, last_days, run_glance, where

TOP_BUCKETS = 10
NEW_BUCKET_DAYS = 7
TOP_DRIVERS = 15
MAX_OPTIONS = 100
# New buckets are judged over the whole retained history (90 days), not the chosen window.
HISTORY_DAYS = 90

_TOTALS = ["SUM(EventCount)", "DCOUNT(DeviceId)"]
# Distinct devices only per day: a distinct count per bucket or driver version costs several times the
# rest of the page on a 10M-event store (see docs/benchmarks.md), and the tables need events only.
_EVENTS = ["SUM(EventCount)"]
_BY_EVENTS = [{"attribute": "SUM(EventCount)", "sort": "desc"}]


@dataclass(frozen=True)
class DayPoint:
    day: date
    events: int
    devices: int


@dataclass(frozen=True)
class BucketRow:
    failure_hash: str
    name: str
    events: int
    first_seen: date | None = None


@dataclass(frozen=True)
class DriverRow:
    driver: str
    version: str
    events: int


@dataclass(frozen=True)
class Overview:
    window: DataWindow
    filters: Filters
    series: list[DayPoint]
    top_buckets: list[BucketRow]
    new_buckets: list[BucketRow]
    drivers: list[DriverRow]

    @property
    def total_events(self) -> int:
        return sum(p.events for p in self.series)


@dataclass(frozen=True)
class FilterOptions:
    drivers: list[str]
    versions: list[str]
    os_builds: list[str]


def _int(value: Any) -> int:
    return int(value or 0)


def overview(
    engine: Engine, caller: Caller, days: int, filters: Filters, now: datetime, timeout_s: float
) -> Overview:
    """The overview of the last ``days`` days (including today) for the caller, with ``filters``."""
    window = last_days(days, now)
    condition = where(*filters.predicates())

    def run(body: dict[str, Any], limit: int, over: DataWindow = window) -> list[list[Any]]:
        return run_glance(
            engine, caller, {"condition": condition, **body}, over, limit=limit, timeout_s=timeout_s
        )

    per_day = {
        date.fromisoformat(day): (_int(events), _int(devices))
        for day, events, devices in run(
            {"projection": ["FailureDate"], "aggregation": {"aggregatedColumns": _TOTALS}}, window.days
        )
    }
    series = [DayPoint(day, *per_day.get(day, (0, 0))) for day in day_range(window)]
    top = run(
        {
            "projection": ["FailureHash"],
            "aggregation": {"aggregatedColumns": [*_EVENTS, "MIN(FailureName)"]},
            "orderby": _BY_EVENTS,
            "limit": TOP_BUCKETS,
        },
        TOP_BUCKETS,
    )
    history = last_days(HISTORY_DAYS, now)
    since = (now.date() - timedelta(days=NEW_BUCKET_DAYS - 1)).isoformat()
    new = run(
        {
            "projection": ["FailureHash"],
            "aggregation": {
                "aggregatedColumns": [*_EVENTS, "MIN(FailureName)", "MIN(FailureDate)"],
                "condition": where({"attribute": "MIN(FailureDate)", "operator": "GTE", "value": since}),
            },
            "orderby": _BY_EVENTS,
            "limit": TOP_BUCKETS,
        },
        TOP_BUCKETS,
        history,
    )
    drivers = run(
        {
            "projection": ["DriverName", "DriverVersion"],
            "aggregation": {"aggregatedColumns": _EVENTS},
            "orderby": _BY_EVENTS,
            "limit": TOP_DRIVERS,
        },
        TOP_DRIVERS,
    )
    return Overview(
        window=window,
        filters=filters,
        series=series,
        top_buckets=[BucketRow(str(h), str(n), _int(e)) for h, e, n in top],
        new_buckets=[BucketRow(str(h), str(n), _int(e), date.fromisoformat(f)) for h, e, n, f in new],
        drivers=[DriverRow(str(n or ""), str(v or ""), _int(e)) for n, v, e in drivers],
    )


def filter_options(
    engine: Engine, caller: Caller, days: int, filters: Filters, now: datetime, timeout_s: float
) -> FilterOptions:
    """Drivers, versions (of the chosen driver, if any) and OS builds in the window, busiest first."""
    window = last_days(days, now)

    def values(column: str, *predicates: dict[str, Any]) -> list[str]:
        body = {
            "projection": [column],
            "condition": where(*predicates),
            "aggregation": {"aggregatedColumns": ["SUM(EventCount)"]},
            "orderby": _BY_EVENTS,
            "limit": MAX_OPTIONS,
        }
        rows = run_glance(engine, caller, body, window, limit=MAX_OPTIONS, timeout_s=timeout_s)
        return [str(row[0]) for row in rows if row[0] is not None]

    driver = [p for p in filters.predicates() if p["attribute"] == "DriverName"]
    return FilterOptions(values("DriverName"), values("DriverVersion", *driver), values("OSVersion"))
