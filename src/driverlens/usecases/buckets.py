"""One failure bucket for the dashboard: its trend, the driver versions and OS builds it hits, its CABs.

Queries are templates compiled for the caller (``usecases.glance``); a bucket the caller has no rows of
in the window is NotFound, like any other partner's object.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from driverlens.catalog import PartnerKind
from driverlens.compiler import DataWindow
from driverlens.engines import Engine
from driverlens.errors import NotFound, Problem, ValidationFailed
from driverlens.metadata.database import Database
from driverlens.usecases.cab_downloads import collected_cab_ids
from driverlens.usecases.caller import Caller
from driverlens.usecases.glance import day_range, last_days, run_glance, where

BUCKET_DAYS = 90
TOP_VALUES = 20
MAX_CABS = 20
# Event rows name more CABs than were collected; look at this many to find MAX_CABS downloadable ones.
CAB_CANDIDATES = 200


@dataclass(frozen=True)
class Count:
    label: str
    events: int


@dataclass(frozen=True)
class BucketCab:
    cab_id_hash: str
    application_id: str | None
    last_seen: date
    expires: str


@dataclass(frozen=True)
class Bucket:
    failure_hash: str
    name: str
    window: DataWindow
    trend: list[tuple[date, int]]
    versions: list[Count]
    os_builds: list[Count]
    cabs: list[BucketCab]


def read_failure_hash(raw: str) -> str:
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError as exc:
        raise ValidationFailed([Problem("failureHash", f"must be a GUID, got {raw[:60]!r}")]) from exc


def bucket(
    engine: Engine, db: Database, caller: Caller, failure_hash: str, now: datetime, timeout_s: float
) -> Bucket:
    """The last 90 days of one of the caller's failure buckets (CABs: the collected ones only)."""
    failure_hash = read_failure_hash(failure_hash)
    window = last_days(BUCKET_DAYS, now)
    this_bucket = {"attribute": "FailureHash", "operator": "EQ", "value": failure_hash}

    def run(body: dict[str, Any], limit: int) -> list[list[Any]]:
        full = {"condition": where(this_bucket, *body.pop("also", ())), **body}
        return run_glance(engine, caller, full, window, limit=limit, timeout_s=timeout_s)

    def counts(*projection: str) -> list[Count]:
        rows = run(
            {
                "projection": list(projection),
                # Events only: distinct devices per value would cost more than the rest of the page.
                "aggregation": {"aggregatedColumns": ["SUM(EventCount)"]},
                "orderby": [{"attribute": "SUM(EventCount)", "sort": "desc"}],
                "limit": TOP_VALUES,
            },
            TOP_VALUES,
        )
        return [Count(" ".join(str(v or "") for v in row[:-1]), int(row[-1] or 0)) for row in rows]

    daily = run(
        {
            "projection": ["FailureDate"],
            "aggregation": {"aggregatedColumns": ["SUM(EventCount)", "MIN(FailureName)"]},
        },
        window.days,
    )
    if not daily:
        raise NotFound(f"failure bucket {failure_hash} has no events of yours in the last {BUCKET_DAYS} days")
    per_day = {date.fromisoformat(day): int(events or 0) for day, events, _name in daily}
    cab_projection = ["CabIdHash", "ApplicationId"] if caller.kind is PartnerKind.IHV else ["CabIdHash"]
    cab_rows = run(
        {
            "projection": cab_projection,
            "also": [{"attribute": "CabExpirationTime", "operator": "GT", "value": now.isoformat()}],
            "aggregation": {"aggregatedColumns": ["MAX(FailureDate)", "MAX(CabExpirationTime)"]},
            "orderby": [{"attribute": "MAX(FailureDate)", "sort": "desc"}],
            "limit": CAB_CANDIDATES,
        },
        CAB_CANDIDATES,
    )
    collected = collected_cab_ids(db, [str(row[0]) for row in cab_rows if row[0]])
    cabs = [
        BucketCab(
            cab_id_hash=str(row[0]),
            application_id=str(row[1]) if caller.kind is PartnerKind.IHV else None,
            last_seen=date.fromisoformat(row[-2]),
            expires=str(row[-1]),
        )
        for row in cab_rows
        if row[0] and str(row[0]) in collected
    ][:MAX_CABS]
    return Bucket(
        failure_hash=failure_hash,
        name=str(daily[0][2]),
        window=window,
        trend=[(day, per_day.get(day, 0)) for day in day_range(window)],
        versions=counts("DriverName", "DriverVersion"),
        os_builds=counts("OSVersion"),
        cabs=cabs,
    )
