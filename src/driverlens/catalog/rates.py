"""The failure-rate measure: its template spelling, the columns it outputs and the groups it allows.

``FAILURERATE(DeviceId)`` in ``aggregation.aggregatedColumns`` divides a group's failing device-days (each
device counted once per day it failed) by the device-days the install base says ran it
(``driverlens.installs``): the share of running devices that fail on a day; ``"compareVersions": true``
in the ``aggregation`` block adds the rate of the version each driver version replaces. The compiler
(``compiler.rates``), the template parser (``templates.rates``) and discovery all read this module.
"""

from __future__ import annotations

from dataclasses import dataclass

RATE_FUNCTION = "FAILURERATE"
RATE_COLUMN = "DeviceId"  # the only column FAILURERATE takes: failing devices are counted distinct per day
RATE_EXPRESSION = f"{RATE_FUNCTION}({RATE_COLUMN})"
COMPARE_KEY = "compareVersions"
VERSION_COLUMN = "DriverVersion"
# z of a two-sided 95% normal interval (the 0.975 quantile), as used by the Wilson score interval.
Z_95 = 1.959963984540054

# Template columns a failure-rate report may group by, and the install base column each one matches.
GROUP_COLUMNS: dict[str, str] = {
    "DriverName": "DriverName",
    "DriverVersion": "DriverVersion",
    "OSVersion": "OSVersion",
    "FailureDate": "InstallDate",
}


class RateKind:
    """Value kinds of the rate columns (for filter values and discovery)."""

    INTEGER = "integer"
    FRACTION = "fraction"
    TEXT = "string"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class RateColumnInfo:
    name: str
    kind: str
    description: str


RATE_COLUMNS: tuple[RateColumnInfo, ...] = (
    RateColumnInfo(
        "FailingDeviceDays",
        RateKind.INTEGER,
        "Devices with a failure in the group, counted once for each day they failed.",
    ),
    RateColumnInfo(
        "InstalledDeviceDays",
        RateKind.INTEGER,
        "Devices running the group, summed over the days of the window (the install base's daily counts).",
    ),
    RateColumnInfo(
        "FailureRate",
        RateKind.FRACTION,
        "FailingDeviceDays / InstalledDeviceDays: the share of running devices failing on a day.",
    ),
    RateColumnInfo("FailureRateLow", RateKind.FRACTION, "Lower bound of the 95% Wilson interval."),
    RateColumnInfo("FailureRateHigh", RateKind.FRACTION, "Upper bound of the 95% Wilson interval."),
)
COMPARE_COLUMNS: tuple[RateColumnInfo, ...] = (
    RateColumnInfo("PreviousVersion", RateKind.TEXT, "The version this one replaces (version order)."),
    RateColumnInfo(
        "PreviousFailingDeviceDays", RateKind.INTEGER, "FailingDeviceDays of the previous version."
    ),
    RateColumnInfo(
        "PreviousInstalledDeviceDays", RateKind.INTEGER, "InstalledDeviceDays of the previous version."
    ),
    RateColumnInfo("PreviousFailureRate", RateKind.FRACTION, "FailureRate of the previous version."),
    RateColumnInfo("PreviousFailureRateLow", RateKind.FRACTION, "FailureRateLow of the previous version."),
    RateColumnInfo("PreviousFailureRateHigh", RateKind.FRACTION, "FailureRateHigh of the previous version."),
    RateColumnInfo("RateRatio", RateKind.FRACTION, "FailureRate / PreviousFailureRate."),
    RateColumnInfo(
        "Regressed", RateKind.BOOLEAN, "True when FailureRateLow is above PreviousFailureRateHigh."
    ),
)
