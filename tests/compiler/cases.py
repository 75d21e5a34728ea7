"""The golden compile cases: a template body, the partner kind and report id, compiled for a fixed window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from driverlens.catalog import PartnerKind, View, columns_of
from driverlens.compiler import DataWindow, Scope

WINDOW = DataWindow(date(2024, 5, 1), date(2024, 5, 8))
IHV_SCOPE = Scope(PartnerKind.IHV, "Contoso")
OEM_SCOPE = Scope(PartnerKind.OEM, "Fabrikam")


@dataclass(frozen=True)
class Case:
    name: str
    body: dict[str, Any]
    report_id: int | None = 1

    @property
    def scope(self) -> Scope:
        return IHV_SCOPE if self.body["view"] == "IHVDriver" else OEM_SCOPE


def pred(attribute: str, operator: str, value: Any) -> dict[str, Any]:
    return {"attribute": attribute, "operator": operator, "value": value}


def body(view: str, projection: list[str], period: str = "Last7Days", **rest: Any) -> dict[str, Any]:
    return {"view": view, "projection": projection, "dateRange": {"reportPeriod": period}, **rest}


# The five standard sample templates of issue 2.
SAMPLES: tuple[Case, ...] = (
    Case(
        "sample_1_ihv_every_column",
        body("IHVDriver", [c.name for c in columns_of(View.IHV_DRIVER)]),
        101,
    ),
    Case(
        "sample_2_oem_every_column",
        body("OEMDriver", [c.name for c in columns_of(View.OEM_DRIVER)]),
        102,
    ),
    Case(
        "sample_3_ihv_failures_by_driver",
        body(
            "IHVDriver",
            ["DriverName", "DriverVersion", "FailureName", "FailureHash"],
            "Last30Days",
            aggregation={"aggregatedColumns": ["SUM(EventCount)", "DCOUNT(DeviceId)"]},
            orderby=[{"attribute": "DCOUNT(DeviceId)", "sort": "desc"}],
        ),
        103,
    ),
    Case(
        "sample_4_oem_kernel_failures_over_1000",
        body(
            "OEMDriver",
            ["FailureName", "FailureHash"],
            condition={"and": [pred("EventType", "EQ", "Kernel")]},
            aggregation={
                "aggregatedColumns": ["SUM(EventCount)"],
                "condition": {"and": [pred("SUM(EventCount)", "GT", 1000)]},
            },
        ),
        104,
    ),
    Case(
        "sample_5_ihv_top_10_drivers",
        body(
            "IHVDriver",
            ["DriverName"],
            "Last90Days",
            aggregation={"aggregatedColumns": ["DCOUNT(DeviceId)"]},
            orderby=[{"attribute": "DCOUNT(DeviceId)", "sort": "desc"}],
            limit=10,
        ),
        105,
    ),
)

CASES: tuple[Case, ...] = (
    Case("projection_only", body("IHVDriver", ["ReportId", "FailureDate", "DriverName"]), 42),
    Case(
        "report_id_null_when_unscheduled", body("IHVDriver", ["ReportId", "FailureName"], "Yesterday"), None
    ),
    Case(
        "oem_model_maps_to_stored_column",
        body(
            "OEMDriver",
            ["Model", "Baseboard"],
            condition={"and": [pred("Model", "EQ", "Surface Laptop 7")]},
            orderby=[{"attribute": "Model", "sort": "asc"}],
        ),
        7,
    ),
    Case(
        "aggregates_every_function",
        body(
            "IHVDriver",
            ["DriverName"],
            aggregation={
                "aggregatedColumns": [
                    "SUM(EventCount)",
                    "AVG(EventCount)",
                    "COUNT(FailureHash)",
                    "DCOUNT(DeviceId)",
                    "MAX(FailureDateTime)",
                    "MIN(FailureDate)",
                ]
            },
        ),
    ),
    Case(
        "aggregates_without_projection",
        body("IHVDriver", [], "Last3Days", aggregation={"aggregatedColumns": ["DCOUNT(DeviceId)"]}),
    ),
    Case(
        "nested_and_or",
        body(
            "IHVDriver",
            ["FailureName"],
            condition={
                "and": [
                    pred("EventType", "eq", "kernel"),
                    {
                        "operator": "NONE",
                        "condition": {
                            "or": [
                                pred("Architecture", "EQ", "ARM64"),
                                {
                                    "condition": {
                                        "and": [
                                            pred("EventCount", "GTE", "10"),
                                            pred("FailureDate", "LT", "050524"),
                                        ]
                                    }
                                },
                            ]
                        },
                    },
                ],
                "or": [
                    pred("Market", "NEQ", "US"),
                    pred("FailureDateTime", "GT", "2024-05-02T06:30:00+02:00"),
                ],
            },
        ),
    ),
    Case(
        "in_lists",
        body(
            "IHVDriver",
            ["DeviceId"],
            condition={
                "and": [
                    pred("OSVersion", "IN", "10.0.22631.4317, 10.0.26100.1"),
                    pred(
                        "DeviceId",
                        "IN",
                        ["0F8FAD5B-D9CB-469F-A165-70867728950E", "7c9e6679-7425-40de-944b-e07fc1f90ae7"],
                    ),
                    pred("EventCount", "IN", ["1", 2]),
                ]
            },
        ),
    ),
    Case(
        "like_and_quotes",
        body(
            "IHVDriver",
            ["FailureName"],
            condition={
                "and": [pred("FailureName", "LIKE", "0x9F_%"), pred("Symbol", "EQ", 'it\'s \\ "odd"')]
            },
        ),
    ),
    Case(
        "having_and_orderby",
        body(
            "IHVDriver",
            ["DriverName", "DriverVersion"],
            "Last30Days",
            aggregation={
                "aggregatedColumns": ["SUM(EventCount)", "AVG(EventCount)"],
                "condition": {
                    "and": [pred("SUM(EventCount)", "GT", "1000"), pred("AVG(EventCount)", "LTE", "2.5")],
                    "or": [pred("DriverName", "LIKE", "nv%"), pred("DriverName", "EQ", "igdkmd64.sys")],
                },
            },
            orderby=[
                {"attribute": "SUM(EventCount)", "sort": "desc"},
                {"attribute": "DriverName", "sort": "asc"},
            ],
        ),
    ),
    Case(
        "limit",
        body("OEMDriver", ["FailureName"], "Last90Days", orderby=[{"attribute": "FailureName"}], limit=25),
    ),
    Case(
        "uuid_and_timestamp_literals",
        body(
            "OEMDriver",
            ["FailureHash"],
            "Last15Days",
            condition={
                "and": [
                    pred("FailureHash", "EQ", "{0F8FAD5B-D9CB-469F-A165-70867728950E}"),
                    pred("CabExpirationTime", "GTE", "2024-05-01T00:00:00Z"),
                ]
            },
        ),
    ),
    Case(
        "orderby_report_id_is_a_no_op",
        body(
            "IHVDriver", ["ReportId", "Market"], orderby=[{"attribute": "ReportId"}, {"attribute": "Market"}]
        ),
        9,
    ),
    *SAMPLES,
)
