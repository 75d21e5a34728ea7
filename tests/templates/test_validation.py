"""Validation: every problem reported at once, each with its path, the bad value and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from driverlens.errors import Problem, ValidationFailed
from driverlens.templates import (
    MAX_DEPTH,
    MAX_IN_VALUES,
    MAX_ITEMS,
    MAX_PROJECTION,
    MAX_VALUE_LENGTH,
    parse_template,
)
from tests.templates.conftest import BodyFactory


def pred(attribute: Any, operator: Any, value: Any) -> dict[str, Any]:
    return {"attribute": attribute, "operator": operator, "value": value}


def problems_of(body: Any) -> list[Problem]:
    with pytest.raises(ValidationFailed) as info:
        parse_template(body)
    return info.value.problems()


def only_problem(body: Any) -> Problem:
    problems = problems_of(body)
    assert len(problems) == 1, problems
    return problems[0]


def test_every_problem_is_reported_with_its_path(body: BodyFactory) -> None:
    raw = body(
        view="IHVDriver",
        projection=["DriverName", "Model"],
        dateRange={"reportPeriod": "Last8Days"},
        condition={
            "and": [
                pred("EventType", "EQ", "Kernel"),
                {"condition": {"or": [pred("Nope", "EQ", 1), pred("EventCount", "GT", "lots")]}},
            ]
        },
        orderby=[{"attribute": "Market", "sort": "sideways"}],
        limit=-1,
        colour="blue",
    )
    by_path = {p.path: p for p in problems_of(raw)}
    assert set(by_path) == {
        "colour",
        "projection[1]",
        "dateRange.reportPeriod",
        "condition.and[1].condition.or[0].attribute",
        "condition.and[1].condition.or[1].value",
        "orderby[0].sort",
        "orderby[0].attribute",
        "limit",
    }
    assert "'Model'" in by_path["projection[1]"].message and "IHVDriver" in by_path["projection[1]"].message
    assert "OEMModel" in by_path["projection[1]"].message  # what is allowed
    assert by_path["condition.and[1].condition.or[1].value"].value == "lots"
    assert "whole number" in by_path["condition.and[1].condition.or[1].value"].message
    assert "asc, desc" in by_path["orderby[0].sort"].message
    assert "neither projected nor aggregated" in by_path["orderby[0].attribute"].message
    assert "Last7Days" in by_path["dateRange.reportPeriod"].message


@pytest.mark.parametrize(
    ("overrides", "path", "fragment"),
    [
        ({"view": None}, "view", "required"),
        ({"projection": None}, "projection", "required"),
        ({"dateRange": None}, "dateRange", "required"),
        ({"dateRange": {}}, "dateRange.reportPeriod", "required"),
        ({"dateRange": "Last7Days"}, "dateRange", "JSON object"),
        ({"view": "Driver"}, "view", "IHVDriver, OEMDriver"),
        ({"view": 1}, "view", "expected a string"),
        ({"projection": "DriverName"}, "projection", "JSON list"),
        ({"projection": []}, "projection", "at least one column"),
        ({"projection": ["DriverName", "drivername"]}, "projection[1]", "listed twice"),
        ({"projection": [7]}, "projection[0]", "column name"),
        ({"dateRange": {"reportPeriod": "Last7Days", "from": "x"}}, "dateRange.from", "unknown key"),
        ({"limit": -5}, "limit", ">= 0"),
        ({"limit": "ten"}, "limit", ">= 0"),
        ({"limit": True}, "limit", ">= 0"),
        ({"limit": 1.5}, "limit", ">= 0"),
        ({"orderby": {"attribute": "DriverName"}}, "orderby", "JSON list"),
        ({"orderby": [{"sort": "asc"}]}, "orderby[0].attribute", "required"),
        ({"orderby": [{"attribute": "DriverName", "by": 1}]}, "orderby[0].by", "allowed keys here"),
        (
            {"orderby": [{"attribute": "DriverName"}, {"attribute": "drivername", "sort": "desc"}]},
            "orderby[1]",
            "twice",
        ),
        ({"orderby": [{"attribute": "SUM(EventCount)"}]}, "orderby[0].attribute", "not in aggregation"),
        ({"condition": []}, "condition", "JSON object"),
        ({"condition": {"and": {}}}, "condition.and", "JSON list"),
        ({"condition": {"not": []}}, "condition.not", "allowed keys here: and, or"),
        ({"condition": {"and": ["x"]}}, "condition.and[0]", "JSON object"),
    ],
)
def test_structural_problems(body: BodyFactory, overrides: dict[str, Any], path: str, fragment: str) -> None:
    problem = only_problem(body(**overrides))
    assert problem.path == path
    assert fragment in problem.message


@pytest.mark.parametrize(
    ("item", "path", "fragment"),
    [
        (pred("Nope", "EQ", 1), "condition.and[0].attribute", "not in the IHVDriver view"),
        (pred("Baseboard", "EQ", "x"), "condition.and[0].attribute", "'Baseboard' is not in the IHVDriver"),
        (pred("SUM(EventCount)", "GT", 1), "condition.and[0].attribute", "only in aggregation.condition"),
        (pred("ReportId", "EQ", 1), "condition.and[0].attribute", "cannot be filtered"),
        (pred("EventCount", "ABOUT", 1), "condition.and[0].operator", "EQ, NEQ, LT, GT, LTE, GTE, LIKE, IN"),
        (
            pred("EventCount", "NONE", 1),
            "condition.and[0].operator",
            "only on an item carrying just a nested",
        ),
        ({"attribute": "EventCount", "value": 1}, "condition.and[0].operator", "required"),
        ({"attribute": "EventCount", "operator": "EQ"}, "condition.and[0].value", "required"),
        ({"operator": "EQ", "value": 1}, "condition.and[0].attribute", "required"),
        (pred("EventCount", "EQ", None), "condition.and[0].value", "required"),
        (pred("EventCount", "EQ", "12abc"), "condition.and[0].value", "whole number"),
        (pred("EventCount", "EQ", "9223372036854775808"), "condition.and[0].value", "out of range"),
        (pred("EventCount", "EQ", True), "condition.and[0].value", "not true/false"),
        (pred("EventCount", "EQ", [1]), "condition.and[0].value", "single value"),
        (pred("FailureDate", "GT", "2024-13-01"), "condition.and[0].value", "yyyy-mm-dd"),
        (pred("FailureDate", "GT", "133124"), "condition.and[0].value", "mmddyy"),
        (pred("FailureDateTime", "GT", "yesterday"), "condition.and[0].value", "ISO timestamp"),
        (pred("DeviceId", "EQ", "not-a-guid"), "condition.and[0].value", "GUID"),
        (pred("FailureHash", "EQ", 12), "condition.and[0].value", "GUID"),
        (pred("EventType", "EQ", "Kernal"), "condition.and[0].value", "allowed values: Kernel, System"),
        (pred("Architecture", "IN", "x64, amd64"), "condition.and[0].value[1]", "x64, arm64, x86"),
        (pred("EventType", "IN", []), "condition.and[0].value", "at least one value"),
        (pred("EventType", "IN", " , "), "condition.and[0].value", "at least one value"),
        (pred("EventCount", "LIKE", "1%"), "condition.and[0].value", "LIKE needs a text column"),
        (pred("DriverName", "LIKE", 5), "condition.and[0].value", "text pattern"),
        (pred("DriverName", "EQ", "a" * (MAX_VALUE_LENGTH + 1)), "condition.and[0].value", "at most"),
        (pred("DriverName", "EQ", "nul\x00byte"), "condition.and[0].value", "NUL"),
        (pred("DriverName", "EQ", {"x": 1}), "condition.and[0].value", "single value"),
        (
            {"operator": "EQ", "condition": {"and": [pred("Mode", "EQ", "User")]}},
            "condition.and[0].operator",
            "takes no operator",
        ),
        (
            {"attribute": "Mode", "condition": {"and": [pred("Mode", "EQ", "User")]}},
            "condition.and[0]",
            "not both",
        ),
        (
            {"attribute": "Mode", "operator": "EQ", "value": "User", "values": 1},
            "condition.and[0].values",
            "",
        ),
    ],
)
def test_predicate_problems(body: BodyFactory, item: dict[str, Any], path: str, fragment: str) -> None:
    problem = only_problem(body(condition={"and": [item]}))
    assert problem.path == path
    assert fragment in problem.message


@pytest.mark.parametrize(
    ("aggregation", "path", "fragment"),
    [
        ({"aggregatedColumns": ["SUM(DriverName)"]}, "aggregation.aggregatedColumns[0]", "numeric column"),
        ({"aggregatedColumns": ["AVG(FailureDate)"]}, "aggregation.aggregatedColumns[0]", "EventCount"),
        ({"aggregatedColumns": ["MEDIAN(EventCount)"]}, "aggregation.aggregatedColumns[0]", "DCOUNT"),
        ({"aggregatedColumns": ["SUM EventCount"]}, "aggregation.aggregatedColumns[0]", "FUNC(Column)"),
        ({"aggregatedColumns": ["COUNT(Model)"]}, "aggregation.aggregatedColumns[0]", "IHVDriver"),
        ({"aggregatedColumns": ["COUNT(ReportId)"]}, "aggregation.aggregatedColumns[0]", "cannot be aggreg"),
        (
            {"aggregatedColumns": ["SUM(EventCount)", "sum(eventcount)"]},
            "aggregation.aggregatedColumns[1]",
            "twice",
        ),
        ({"aggregatedColumns": "SUM(EventCount)"}, "aggregation.aggregatedColumns", "JSON list"),
        ({"aggregatedcolumn": []}, "aggregation.aggregatedcolumn", "aggregatedColumns, condition"),
        (
            {
                "aggregatedColumns": ["SUM(EventCount)"],
                "condition": {"and": [pred("DCOUNT(DeviceId)", "GT", 1)]},
            },
            "aggregation.condition.and[0].attribute",
            "not in aggregation.aggregatedColumns",
        ),
        (
            {"aggregatedColumns": ["SUM(EventCount)"], "condition": {"and": [pred("Market", "EQ", "US")]}},
            "aggregation.condition.and[0].attribute",
            "neither projected nor aggregated; use one of: DriverName, FailureHash, SUM(EventCount)",
        ),
        (
            {"condition": {"and": [pred("DriverName", "EQ", "x")]}},
            "aggregation.condition",
            "needs aggregatedColumns",
        ),
        (
            {
                "aggregatedColumns": ["AVG(EventCount)"],
                "condition": {"and": [pred("AVG(EventCount)", "GT", "x")]},
            },
            "aggregation.condition.and[0].value",
            "number",
        ),
    ],
)
def test_aggregation_problems(
    body: BodyFactory, aggregation: dict[str, Any], path: str, fragment: str
) -> None:
    problem = only_problem(body(aggregation=aggregation))
    assert problem.path == path
    assert fragment in problem.message


def test_unknown_view_still_reports_other_problems(body: BodyFactory) -> None:
    problems = problems_of(body(view="Hardware", projection=["DriverName", "Bogus"], limit=-1))
    assert [p.path for p in problems] == ["view", "projection[1]", "limit"]


def test_nesting_deeper_than_the_bound_is_a_problem(body: BodyFactory) -> None:
    condition: dict[str, Any] = {"and": [pred("Mode", "EQ", "User")]}
    for _ in range(MAX_DEPTH):
        condition = {"and": [{"condition": condition}]}
    problem = only_problem(body(condition=condition))
    assert problem.path.endswith(".condition")
    assert problem.path.count("condition") == MAX_DEPTH + 1
    assert f"at most {MAX_DEPTH} levels" in problem.message


def test_nesting_at_the_bound_is_fine(body: BodyFactory) -> None:
    condition: dict[str, Any] = {"and": [pred("Mode", "EQ", "User")]}
    for _ in range(MAX_DEPTH - 1):
        condition = {"and": [{"condition": condition}]}
    assert parse_template(body(condition=condition)).condition is not None


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"projection": ["DriverName"] * (MAX_PROJECTION + 1)}, "projection"),
        ({"condition": {"or": [pred("Mode", "EQ", "User")] * (MAX_ITEMS + 1)}}, "condition.or"),
        (
            {"condition": {"or": [pred("EventCount", "IN", list(range(MAX_IN_VALUES + 1)))]}},
            "condition.or[0].value",
        ),
    ],
)
def test_size_limits(body: BodyFactory, overrides: dict[str, Any], path: str) -> None:
    problem = only_problem(body(**overrides))
    assert problem.path == path
    assert "at most" in problem.message


@pytest.mark.parametrize("raw", [None, [], "[]", 3, "not json", b"\xff", '{"view": }'])
def test_bodies_that_are_not_objects(raw: Any) -> None:
    problem = only_problem(raw)
    assert problem.path == ""
    assert "JSON" in problem.message or "UTF-8" in problem.message


def test_the_error_summary_names_paths() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_template({"view": "IHVDriver", "projection": ["X"], "dateRange": {"reportPeriod": "Today"}})
    assert info.value.status == 400
    assert "projection[0]" in str(info.value) and "dateRange.reportPeriod" in str(info.value)


def test_null_projection_without_aggregates_is_a_problem(body: BodyFactory) -> None:
    raw = body()
    raw["projection"] = None
    problem = only_problem(raw)
    assert (problem.path, problem.message) == (
        "projection",
        "name at least one column (or give aggregatedColumns)",
    )
