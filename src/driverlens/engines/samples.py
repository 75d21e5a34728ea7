"""The five standard sample templates (issue 2), used by the tests, the benchmark and demos."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from driverlens.catalog import PartnerKind, View, columns_of


@dataclass(frozen=True)
class SampleTemplate:
    number: int
    title: str
    kind: PartnerKind
    body: dict[str, Any]

    @property
    def aggregated(self) -> bool:
        return "aggregation" in self.body


def _every_column(view: View) -> list[str]:
    return [column.name for column in columns_of(view)]


SAMPLE_TEMPLATES: tuple[SampleTemplate, ...] = (
    SampleTemplate(
        1,
        "IHVDriver, every IHV column, last 7 days",
        PartnerKind.IHV,
        {
            "view": "IHVDriver",
            "projection": _every_column(View.IHV_DRIVER),
            "dateRange": {"reportPeriod": "Last7Days"},
        },
    ),
    SampleTemplate(
        2,
        "OEMDriver, every OEM column, last 7 days",
        PartnerKind.OEM,
        {
            "view": "OEMDriver",
            "projection": _every_column(View.OEM_DRIVER),
            "dateRange": {"reportPeriod": "Last7Days"},
        },
    ),
    SampleTemplate(
        3,
        "IHVDriver, failures by driver version with SUM(EventCount), DCOUNT(DeviceId), last 30 days",
        PartnerKind.IHV,
        {
            "view": "IHVDriver",
            "projection": ["DriverName", "DriverVersion", "FailureName", "FailureHash"],
            "dateRange": {"reportPeriod": "Last30Days"},
            "aggregation": {"aggregatedColumns": ["SUM(EventCount)", "DCOUNT(DeviceId)"]},
            "orderby": [{"attribute": "DCOUNT(DeviceId)", "sort": "desc"}],
        },
    ),
    SampleTemplate(
        4,
        "OEMDriver, kernel failures with SUM(EventCount) > 1000, last 7 days",
        PartnerKind.OEM,
        {
            "view": "OEMDriver",
            "projection": ["FailureName", "FailureHash"],
            "dateRange": {"reportPeriod": "Last7Days"},
            "condition": {"and": [{"attribute": "EventType", "operator": "EQ", "value": "Kernel"}]},
            "aggregation": {
                "aggregatedColumns": ["SUM(EventCount)"],
                "condition": {"and": [{"attribute": "SUM(EventCount)", "operator": "GT", "value": 1000}]},
            },
        },
    ),
    SampleTemplate(
        5,
        "IHVDriver, top 10 drivers by DCOUNT(DeviceId), last 90 days",
        PartnerKind.IHV,
        {
            "view": "IHVDriver",
            "projection": ["DriverName"],
            "dateRange": {"reportPeriod": "Last90Days"},
            "aggregation": {"aggregatedColumns": ["DCOUNT(DeviceId)"]},
            "orderby": [{"attribute": "DCOUNT(DeviceId)", "sort": "desc"}],
            "limit": 10,
        },
    ),
)


def sample_template(number: int) -> SampleTemplate:
    """One of the five samples by its number (1-5)."""
    for sample in SAMPLE_TEMPLATES:
        if sample.number == number:
            return sample
    raise KeyError(number)
