"""Every input tolerance rule of contract section 2, applied to templates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import pytest

from driverlens.catalog import Aggregate, Operator, ReportPeriod, View, column_for
from driverlens.templates import AggregateExpr, Condition, Predicate, SortOrder, parse_template
from tests.templates.conftest import BodyFactory


def where(*items: dict[str, Any], key: str = "and") -> dict[str, Any]:
    return {key: list(items)}


def pred(attribute: str, operator: str, value: Any) -> dict[str, Any]:
    return {"attribute": attribute, "operator": operator, "value": value}


def only_predicate(body: dict[str, Any]) -> Predicate:
    template = parse_template(body)
    assert template.condition is not None
    (item,) = template.condition.all_of
    assert isinstance(item, Predicate)
    return item


def test_keys_are_case_insensitive_at_every_level(body: BodyFactory) -> None:
    raw = {
        "VIEW": "IHVDriver",
        "Projection": ["DriverName"],
        "DATERANGE": {"ReportPeriod": "Last7Days"},
        "Condition": {"AND": [{"Attribute": "EventCount", "OPERATOR": "GT", "Value": 1}]},
        "Aggregation": {
            "AggregatedColumns": ["SUM(EventCount)"],
            "Condition": {"Or": [{"ATTRIBUTE": "SUM(EventCount)", "operator": "GT", "VALUE": 5}]},
        },
        "OrderBy": [{"Attribute": "DriverName", "Sort": "asc"}],
        "LIMIT": 5,
    }
    template = parse_template(raw)
    assert template.view is View.IHV_DRIVER
    assert template.limit == 5
    assert template.having is not None and template.condition is not None
    assert template.orderby[0].sort is SortOrder.ASC


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("view", " ihvdriver "),
        ("dateRange", {"reportPeriod": "  LAST7DAYS"}),
        ("aggregation", {"aggregatedColumns": ["sum(EventCount)", " dcount ( deviceid ) "]}),
        ("orderby", [{"attribute": "drivername", "sort": " DESC"}]),
        ("condition", where(pred("eventtype", " eq ", " KERNEL "))),
    ],
)
def test_enumerations_are_trimmed_and_case_insensitive(body: BodyFactory, field: str, raw: Any) -> None:
    template = parse_template(body(projection=["DriverName"], **{field: raw}))
    canonical = template.to_canonical()
    assert canonical["view"] == "IHVDriver"
    assert canonical["dateRange"] == {"reportPeriod": "Last7Days"}
    if field == "aggregation":
        assert canonical["aggregation"]["aggregatedColumns"] == ["SUM(EventCount)", "DCOUNT(DeviceId)"]
        assert template.output_columns == ["DriverName", "SUM(EventCount)", "DCOUNT(DeviceId)"]
    if field == "orderby":
        assert canonical["orderby"] == [{"attribute": "DriverName", "sort": "desc"}]
    if field == "condition":
        assert canonical["condition"] == where(pred("EventType", "EQ", "Kernel"))


def test_comments_in_text_bodies_are_accepted() -> None:
    text = """
    // copied from the documentation
    {
      "view": "OEMDriver", /* the OEM view */
      "projection": ["Model", "FailureName"], // group keys
      "dateRange": {"reportPeriod": "Yesterday"},
      "condition": {"and": [{"attribute": "FailureName", "operator": "LIKE", "value": "0x9F_%//x"}]}
    }
    """
    template = parse_template(text)
    assert template.view is View.OEM_DRIVER
    assert [c.name for c in template.projection] == ["Model", "FailureName"]
    assert only_predicate(template.to_canonical()).value == "0x9F_%//x"
    assert parse_template(text.encode()) == template


@pytest.mark.parametrize(
    ("attribute", "raw", "expected"),
    [
        ("EventCount", "1000", 1000),
        ("EventCount", " -3 ", -3),
        ("EventCount", 7.0, 7),
        ("EventCount", "1e3", 1000),
        ("FailureDate", "2024-02-29", date(2024, 2, 29)),
        ("FailureDate", "022924", date(2024, 2, 29)),
        ("FailureDate", 10124, date(2024, 1, 1)),
        ("FailureDateTime", "2024-05-01T13:45:00Z", datetime(2024, 5, 1, 13, 45)),
        ("FailureDateTime", "2024-05-01T15:45:00+02:00", datetime(2024, 5, 1, 13, 45)),
        ("FailureDateTime", "2024-05-01", datetime(2024, 5, 1)),
        (
            "DeviceId",
            " 0F8FAD5B-D9CB-469F-A165-70867728950E ",
            uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e"),
        ),
        (
            "FailureHash",
            "{0f8fad5b-d9cb-469f-a165-70867728950e}",
            uuid.UUID(int=0x0F8FAD5BD9CB469FA16570867728950E),
        ),
        ("DriverVersion", 31, "31"),
        ("Market", " US ", " US "),
        ("Architecture", "X64", "x64"),
        ("Mode", "user", "User"),
        ("CabType", " mini", "Mini"),
    ],
)
def test_values_are_coerced_to_the_column_type(
    body: BodyFactory, attribute: str, raw: Any, expected: Any
) -> None:
    predicate = only_predicate(body(condition=where(pred(attribute, "EQ", raw))))
    assert predicate.value == expected
    assert type(predicate.value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Kernel", "system"], ("Kernel", "System")),
        ("kernel, System", ("Kernel", "System")),
        ("Kernel", ("Kernel",)),
        (["Kernel", "kernel"], ("Kernel",)),
    ],
)
def test_in_takes_a_list_or_a_comma_separated_string(body: BodyFactory, raw: Any, expected: Any) -> None:
    predicate = only_predicate(body(condition=where(pred("EventType", "in", raw))))
    assert predicate.operator is Operator.IN
    assert predicate.value == expected


def test_in_values_are_coerced_one_by_one(body: BodyFactory) -> None:
    predicate = only_predicate(body(condition=where(pred("EventCount", "IN", "1, 2,3"))))
    assert predicate.value == (1, 2, 3)


def test_operator_none_is_allowed_on_a_nested_condition_item(body: BodyFactory) -> None:
    nested = {"operator": "NONE", "condition": where(pred("Mode", "EQ", "Kernel"), key="or")}
    template = parse_template(body(condition=where(nested, {"operator": None, "condition": where()})))
    assert template.condition == Condition(
        all_of=(Condition(any_of=(Predicate(column_for(View.IHV_DRIVER, "Mode"), Operator.EQ, "Kernel"),)),)
    )


@pytest.mark.parametrize(
    "condition",
    [{}, {"and": []}, {"and": [], "or": []}, {"or": [{"condition": {}}]}, {"and": None}],
)
def test_empty_conditions_and_lists_are_ignored(body: BodyFactory, condition: dict[str, Any]) -> None:
    template = parse_template(body(condition=condition))
    assert template.condition is None
    assert "condition" not in template.to_canonical()


def test_both_lists_are_kept_when_non_empty(body: BodyFactory) -> None:
    condition = {"and": [pred("Mode", "EQ", "User")], "or": [pred("EventCount", "GT", 1)], "Or": None}
    condition.pop("Or")
    template = parse_template(body(condition=condition))
    assert template.condition is not None
    assert len(template.condition.all_of) == 1 and len(template.condition.any_of) == 1


def test_limit_accepts_numeric_strings_and_zero_means_all(body: BodyFactory) -> None:
    assert parse_template(body(limit="25")).limit == 25
    assert parse_template(body(limit=0)).limit == 0
    assert "limit" not in parse_template(body(limit=0)).to_canonical()


def test_sort_defaults_to_ascending(body: BodyFactory) -> None:
    template = parse_template(body(orderby=[{"attribute": "DriverName"}]))
    assert template.orderby[0].sort is SortOrder.ASC


def test_oem_model_is_named_model_in_the_oem_view(body: BodyFactory) -> None:
    template = parse_template(body(view="OEMDriver", projection=["model", "Baseboard"]))
    assert template.output_columns == ["Model", "Baseboard"]
    assert template.projection[0].physical == "OEMModel"


def test_having_on_aggregates_and_projected_columns(body: BodyFactory) -> None:
    aggregation = {
        "aggregatedColumns": ["SUM(EventCount)", "AVG(EventCount)", "MAX(FailureDate)"],
        "condition": {
            "and": [
                pred("sum(eventcount)", "GT", "1000"),
                pred("AVG(EventCount)", "GTE", "2.5"),
                pred("MAX(FailureDate)", "LT", "010524"),
                pred("DriverName", "LIKE", "nv%"),
            ]
        },
    }
    template = parse_template(body(aggregation=aggregation))
    assert template.having is not None
    values = [item.value for item in template.having.all_of if isinstance(item, Predicate)]
    assert values == [1000, 2.5, date(2024, 1, 5), "nv%"]
    first = template.having.all_of[0]
    assert isinstance(first, Predicate)
    assert first.attribute == AggregateExpr(Aggregate.SUM, column_for(View.IHV_DRIVER, "EventCount"))


def test_aggregates_without_projection_are_allowed(body: BodyFactory) -> None:
    template = parse_template(body(projection=[], aggregation={"aggregatedColumns": ["COUNT(DeviceId)"]}))
    assert template.output_columns == ["COUNT(DeviceId)"]


def test_every_period_parses(body: BodyFactory) -> None:
    for period in ReportPeriod:
        assert parse_template(body(dateRange={"reportPeriod": period.value.upper()})).report_period is period
