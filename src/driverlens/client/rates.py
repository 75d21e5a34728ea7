"""Failure-rate templates for the SDK: ``failure_rate_template(...)`` builds the JSON body.

The server defines the measure (``FAILURERATE(DeviceId)``, docs/templates.md "Failure rates"); this
module only spells templates, so it keeps the SDK free of server imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

RATE = "FAILURERATE(DeviceId)"
#: Columns a failure-rate template may group by (those the install base has), and ReportId.
GROUP_COLUMNS = ("DriverName", "DriverVersion", "OSVersion", "FailureDate", "ReportId")
RATE_COLUMNS = (
    "FailingDeviceDays",
    "InstalledDeviceDays",
    "FailureRate",
    "FailureRateLow",
    "FailureRateHigh",
)
COMPARE_COLUMNS = (
    "PreviousVersion",
    "PreviousFailingDeviceDays",
    "PreviousInstalledDeviceDays",
    "PreviousFailureRate",
    "PreviousFailureRateLow",
    "PreviousFailureRateHigh",
    "RateRatio",
    "Regressed",
)


def failure_rate_template(
    *,
    view: str = "IHVDriver",
    by: Sequence[str] = ("DriverName", "DriverVersion"),
    period: str = "Last30Days",
    compare_versions: bool | None = None,
    drivers: Sequence[str] = (),
    only_regressed: bool = False,
    orderby: str | None = None,
    descending: bool = True,
    limit: int = 0,
) -> dict[str, Any]:
    """A template of failure rates grouped ``by`` columns of the install base.

    ``compare_versions`` defaults to true when DriverVersion is in ``by``; ``drivers`` keeps those driver
    names (failures and installs alike); ``only_regressed`` keeps the Regressed rows; ``orderby`` is an
    output column (default FailureRate, descending).
    """
    unknown = [c for c in by if c not in GROUP_COLUMNS]
    if unknown:
        raise ValueError(
            f"cannot group failure rates by {', '.join(unknown)}; use {', '.join(GROUP_COLUMNS)}"
        )
    compare = "DriverVersion" in by if compare_versions is None else compare_versions
    if only_regressed and not compare:
        raise ValueError("only_regressed needs compare_versions (and DriverVersion in by)")
    aggregation: dict[str, Any] = {"aggregatedColumns": [RATE]}
    if compare:
        aggregation["compareVersions"] = True
    if only_regressed:
        aggregation["condition"] = {"and": [{"attribute": "Regressed", "operator": "EQ", "value": True}]}
    body: dict[str, Any] = {
        "view": view,
        "projection": list(by),
        "dateRange": {"reportPeriod": period},
        "aggregation": aggregation,
        "orderby": [{"attribute": orderby or "FailureRate", "sort": "desc" if descending else "asc"}],
    }
    if drivers:
        body["condition"] = {"and": [{"attribute": "DriverName", "operator": "IN", "value": list(drivers)}]}
    if limit:
        body["limit"] = int(limit)
    return body
