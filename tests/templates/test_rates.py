"""FAILURERATE(DeviceId) and compareVersions: validation with paths, canonical JSON, lenient spellings."""

from __future__ import annotations

from typing import Any

import pytest

from driverlens.errors import Problem, ValidationFailed
from driverlens.templates import parse_template
from driverlens.templates.model import RateColumn

RATE = "FAILURERATE(DeviceId)"


def rate_body(**overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "view": "IHVDriver",
        "projection": ["DriverName", "DriverVersion"],
        "dateRange": {"reportPeriod": "Last30Days"},
        "aggregation": {"aggregatedColumns": [RATE]},
    }
    for key, value in overrides.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def problems_of(body: Any) -> list[Problem]:
    with pytest.raises(ValidationFailed) as info:
        parse_template(body)
    return info.value.problems()


def test_rate_columns_follow_its_place_and_compare_columns_come_last() -> None:
    template = parse_template(
        rate_body(
            aggregation={
                "aggregatedColumns": ["SUM(EventCount)", RATE, "COUNT(EventCount)"],
                "compareVersions": True,
            }
        )
    )
    assert template.output_columns == [
        "DriverName",
        "DriverVersion",
        "SUM(EventCount)",
        "FailingDeviceDays",
        "InstalledDeviceDays",
        "FailureRate",
        "FailureRateLow",
        "FailureRateHigh",
        "COUNT(EventCount)",
        "PreviousVersion",
        "PreviousFailingDeviceDays",
        "PreviousInstalledDeviceDays",
        "PreviousFailureRate",
        "PreviousFailureRateLow",
        "PreviousFailureRateHigh",
        "RateRatio",
        "Regressed",
    ]
    assert template.aggregates[0].name == "SUM(EventCount)" and len(template.aggregates) == 2


@pytest.mark.parametrize(
    "body",
    [
        rate_body(),
        rate_body(projection=["FailureDate", "OSVersion", "ReportId"]),
        rate_body(projection=[]),
        rate_body(
            aggregation={
                "aggregatedColumns": [RATE, "SUM(EventCount)"],
                "compareVersions": True,
                "condition": {
                    "or": [
                        {"attribute": "Regressed", "operator": "EQ", "value": True},
                        {"attribute": "FailureRate", "operator": "GT", "value": 0.01},
                        {"attribute": "PreviousVersion", "operator": "LIKE", "value": "31.%"},
                    ]
                },
            },
            orderby=[{"attribute": "RateRatio", "sort": "desc"}, {"attribute": "SUM(EventCount)"}],
            condition={"and": [{"attribute": "Market", "operator": "EQ", "value": "US"}]},
            limit=10,
        ),
    ],
)
def test_canonical_json_round_trips(body: dict[str, Any]) -> None:
    template = parse_template(body)
    assert parse_template(template.to_canonical()) == template
    assert template.to_canonical() == parse_template(template.to_canonical()).to_canonical()


def test_lenient_spellings() -> None:
    template = parse_template(
        rate_body(
            aggregation={
                "AggregatedColumns": [" failurerate( deviceid ) "],
                "compareversions": "TRUE",
                "condition": {"and": [{"attribute": "regressed", "operator": "eq", "value": "true"}]},
            },
            orderby=[{"attribute": "failurerate", "sort": "DESC"}],
        )
    )
    assert template.rate is not None and template.rate.compare_versions
    assert template.orderby[0].attribute == RateColumn("FailureRate", "fraction")
    assert template.to_canonical()["aggregation"] == {
        "aggregatedColumns": [RATE],
        "condition": {"and": [{"attribute": "Regressed", "operator": "EQ", "value": True}]},
        "compareVersions": True,
    }


@pytest.mark.parametrize(
    ("body", "path", "fragments"),
    [
        (
            rate_body(projection=["DriverName", "Market"]),
            "projection[1]",
            ("'Market' is not in the install base", "DriverName, DriverVersion, OSVersion, FailureDate"),
        ),
        (
            rate_body(aggregation={"aggregatedColumns": ["FAILURERATE(EventCount)"]}),
            "aggregation.aggregatedColumns[0]",
            ("write FAILURERATE(DeviceId)",),
        ),
        (
            rate_body(aggregation={"aggregatedColumns": [RATE, "failurerate(DeviceId)"]}),
            "aggregation.aggregatedColumns[1]",
            ("listed twice",),
        ),
        (
            rate_body(aggregation={"aggregatedColumns": [RATE], "compareVersions": 1}),
            "aggregation.compareVersions",
            ("true or false",),
        ),
        (
            rate_body(
                projection=["DriverName"], aggregation={"aggregatedColumns": [RATE], "compareVersions": True}
            ),
            "aggregation.compareVersions",
            ("project DriverVersion",),
        ),
        (
            rate_body(aggregation={"aggregatedColumns": ["SUM(EventCount)"], "compareVersions": True}),
            "aggregation.compareVersions",
            ("add FAILURERATE(DeviceId)",),
        ),
        (
            rate_body(orderby=[{"attribute": "Regressed"}]),
            "orderby[0].attribute",
            ("compareVersions", "FailingDeviceDays"),
        ),
        (
            rate_body(orderby=[{"attribute": RATE}]),
            "orderby[0].attribute",
            ("stands for several columns", "FailureRateLow"),
        ),
        (
            rate_body(
                aggregation={
                    "aggregatedColumns": [RATE],
                    "condition": {"and": [{"attribute": "FailureRate", "operator": "GT", "value": "high"}]},
                }
            ),
            "aggregation.condition.and[0].value",
            ("not allowed",),
        ),
        (
            rate_body(
                aggregation={
                    "aggregatedColumns": [RATE],
                    "compareVersions": True,
                    "condition": {"and": [{"attribute": "Regressed", "operator": "GT", "value": True}]},
                }
            ),
            "aggregation.condition.and[0].value",
            ("EQ or NEQ",),
        ),
        (
            rate_body(
                aggregation={
                    "aggregatedColumns": [RATE],
                    "compareVersions": True,
                    "condition": {"and": [{"attribute": "Regressed", "operator": "EQ", "value": "yes"}]},
                }
            ),
            "aggregation.condition.and[0].value",
            ("true or false",),
        ),
        (
            rate_body(
                aggregation={"aggregatedColumns": ["SUM(EventCount)"]},
                orderby=[{"attribute": "FailureRate"}],
            ),
            "orderby[0].attribute",
            ("output of FAILURERATE(DeviceId)",),
        ),
        (
            rate_body(delta={"key": ["DriverName"], "measure": "SUM(EventCount)"}),
            "delta",
            ("cannot carry FAILURERATE",),
        ),
    ],
)
def test_every_bad_field_is_a_problem_at_its_path(
    body: dict[str, Any], path: str, fragments: tuple[str, ...]
) -> None:
    problems = problems_of(body)
    at_path = [p for p in problems if p.path == path]
    assert at_path, problems
    for fragment in fragments:
        assert any(fragment in p.message for p in at_path), (fragment, at_path)


def test_the_compare_flag_without_version_names_the_path() -> None:
    problems = problems_of(
        rate_body(
            projection=["OSVersion", "Market"],
            aggregation={"aggregatedColumns": [RATE], "compareVersions": True},
        )
    )
    assert {p.path for p in problems} == {"projection[1]", "aggregation.compareVersions"}


def test_ordinary_templates_are_unaffected() -> None:
    body = rate_body(projection=["Market"], aggregation={"aggregatedColumns": ["DCOUNT(DeviceId)"]})
    template = parse_template(body)
    assert template.rate is None and "compareVersions" not in template.to_canonical()["aggregation"]
