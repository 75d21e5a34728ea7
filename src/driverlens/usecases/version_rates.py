"""Failure rates per driver version for the dashboard: a FAILURERATE template with compareVersions.

Compiled for the caller like every dashboard query (``usecases.glance``): scoped, windowed and bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from driverlens.compiler import DataWindow
from driverlens.engines import Engine
from driverlens.usecases.caller import Caller
from driverlens.usecases.glance import Filters, last_days, run_glance, where

MAX_ROWS = 500


@dataclass(frozen=True)
class VersionRate:
    driver: str | None
    version: str | None
    failing: int
    installed: int
    rate: float | None
    low: float | None
    high: float | None
    previous_version: str | None
    previous_rate: float | None
    previous_low: float | None
    previous_high: float | None
    ratio: float | None
    regressed: bool


@dataclass(frozen=True)
class VersionRates:
    window: DataWindow
    rows: list[VersionRate]

    @property
    def regressed(self) -> list[VersionRate]:
        return [r for r in self.rows if r.regressed]


def version_rates(
    engine: Engine, caller: Caller, now: datetime, days: int, filters: Filters, timeout_s: float
) -> VersionRates:
    """Each driver version's failure rate over the last ``days`` days, beside the version it replaces."""
    window = last_days(days, now)
    body: dict[str, Any] = {
        "projection": ["DriverName", "DriverVersion"],
        "condition": where(*filters.predicates()),
        "aggregation": {"aggregatedColumns": ["FAILURERATE(DeviceId)"], "compareVersions": True},
        "limit": MAX_ROWS,
    }
    rows = run_glance(engine, caller, body, window, limit=MAX_ROWS, timeout_s=timeout_s)
    return VersionRates(window, [_row(r) for r in rows])


def _row(row: list[Any]) -> VersionRate:
    (driver, version, failing, installed, rate, low, high) = row[:7]
    (previous, _pf, _pi, previous_rate, previous_low, previous_high, ratio, regressed) = row[7:15]
    return VersionRate(
        driver=driver,
        version=version,
        failing=int(failing or 0),
        installed=int(installed or 0),
        rate=rate,
        low=low,
        high=high,
        previous_version=previous,
        previous_rate=previous_rate,
        previous_low=previous_low,
        previous_high=previous_high,
        ratio=ratio,
        regressed=bool(regressed),
    )
