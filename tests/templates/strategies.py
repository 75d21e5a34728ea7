"""Hypothesis strategies: valid template bodies (as clients would send them) and arbitrary JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from hypothesis import strategies as st

from driverlens.catalog import Aggregate, Column, ColumnType, Operator, ReportPeriod, View, columns_of

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)

_text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30)


def filterable(view: View) -> list[Column]:
    return [c for c in columns_of(view) if c.physical is not None]


def value_for(column: Column) -> st.SearchStrategy[Any]:
    """A JSON value that coerces to ``column``'s type, in one of the spellings clients use."""
    if column.allowed_values:
        return st.sampled_from(column.allowed_values).flatmap(
            lambda v: st.sampled_from([v, v.upper(), v.lower(), f" {v} "])
        )
    if column.type is ColumnType.INTEGER:
        return st.integers(-(10**12), 10**12).flatmap(lambda n: st.sampled_from([n, str(n)]))
    if column.type is ColumnType.DATE:
        return st.dates(date(2000, 1, 1), date(2068, 12, 31)).flatmap(
            lambda d: st.sampled_from([d.isoformat(), d.strftime("%m%d%y")])
        )
    if column.type is ColumnType.TIMESTAMP:
        return st.datetimes(datetime(2000, 1, 1), datetime(2090, 1, 1)).map(
            lambda d: d.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
        )
    if column.type is ColumnType.UUID:
        return st.uuids().map(str)
    return _text


@st.composite
def predicates(draw: st.DrawFn, view: View) -> dict[str, Any]:
    column = draw(st.sampled_from(filterable(view)))
    operators = [Operator.EQ, Operator.NEQ, Operator.LT, Operator.GT, Operator.LTE, Operator.GTE, Operator.IN]
    if column.type is ColumnType.STRING:
        operators.append(Operator.LIKE)
    operator = draw(st.sampled_from(operators))
    value: Any
    if operator is Operator.IN:
        value = draw(st.lists(value_for(column), min_size=1, max_size=4))
    elif operator is Operator.LIKE:
        value = draw(_text)
    else:
        value = draw(value_for(column))
    spelled = draw(st.sampled_from([operator.value, operator.value.lower(), f" {operator.value} "]))
    return {
        "attribute": draw(st.sampled_from([column.name, column.name.lower()])),
        "operator": spelled,
        "value": value,
    }


def conditions(view: View, depth: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    item: st.SearchStrategy[dict[str, Any]] = predicates(view)
    if depth > 0:
        nested = conditions(view, depth - 1).flatmap(
            lambda c: st.sampled_from([{"condition": c}, {"operator": "NONE", "condition": c}])
        )
        item = item | nested
    return st.fixed_dictionaries(
        {}, optional={"and": st.lists(item, min_size=1, max_size=3), "or": st.lists(item, max_size=3)}
    )


@st.composite
def aggregate_names(draw: st.DrawFn, view: View) -> list[str]:
    names: list[str] = []
    for column in draw(st.lists(st.sampled_from(filterable(view)), max_size=4, unique=True)):
        funcs = [a for a in Aggregate if column.type.is_numeric or not a.needs_numeric]
        func = draw(st.sampled_from(funcs))
        names.append(f"{func.value}({column.name})")
    return names


@st.composite
def template_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A valid template body, keys and enumerations in assorted spellings."""
    view = draw(st.sampled_from(list(View)))
    aggregates = draw(aggregate_names(view))
    projection = draw(
        st.lists(st.sampled_from(columns_of(view)), min_size=0 if aggregates else 1, max_size=8, unique=True)
    )
    body: dict[str, Any] = {
        "view": draw(st.sampled_from([view.value, view.value.lower(), f" {view.value}"])),
        "projection": [c.name for c in projection],
        "dateRange": {"reportPeriod": draw(st.sampled_from(list(ReportPeriod))).value},
    }
    if draw(st.booleans()):
        body["condition"] = draw(conditions(view))
    outputs = [c.name for c in projection] + aggregates
    if aggregates:
        aggregation: dict[str, Any] = {"aggregatedColumns": aggregates}
        if draw(st.booleans()):
            aggregation["condition"] = {
                "and": draw(st.lists(_having_predicate(view, projection, aggregates), max_size=3))
            }
        body["aggregation"] = aggregation
    if outputs and draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(outputs), max_size=3, unique=True))
        body["orderby"] = [
            {"attribute": a, "sort": draw(st.sampled_from(["asc", "DESC", " Desc "]))} for a in chosen
        ]
    if draw(st.booleans()):
        body["limit"] = draw(st.integers(0, 10_000))
    if draw(st.booleans()):
        body = {key.upper(): value for key, value in body.items()}
    return body


@st.composite
def _having_predicate(
    draw: st.DrawFn, view: View, projection: list[Column], aggregates: list[str]
) -> dict[str, Any]:
    choices = [c for c in projection if c.physical is not None]
    name = draw(st.sampled_from([*aggregates, *(c.name for c in choices)]))
    if "(" in name:
        func, column_name = name.rstrip(")").split("(")
        column = next(c for c in columns_of(view) if c.name == column_name)
        if func in ("COUNT", "DCOUNT", "SUM"):
            value: Any = draw(st.integers(0, 10**9))
        elif func == "AVG":
            value = draw(st.floats(0, 1e6).map(lambda f: round(f, 3)))
        else:
            value = draw(value_for(column))
        operator = draw(st.sampled_from(["GT", "LT", "EQ", "GTE"]))
    else:
        column = next(c for c in choices if c.name == name)
        operator = "EQ"
        value = draw(value_for(column))
    return {"attribute": name, "operator": operator, "value": value}
