"""Resolving the names a template uses: columns of a view and ``FUNC(Column)`` aggregate expressions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from driverlens import lenient
from driverlens.catalog import COLUMNS, Aggregate, Column, View, column_for, columns_of
from driverlens.errors import Problem
from driverlens.lenient import echo, echo_text
from driverlens.templates.model import AggregateExpr, Attribute

AGGREGATE_RE = re.compile(r"^\s*([A-Za-z]+)\s*\(\s*([A-Za-z0-9_]+)\s*\)\s*$")

Resolved = tuple[Attribute | None, list[Problem]]
# Resolves an attribute (column or aggregate expression) at a path, or returns the problems.
Resolver = Callable[[Any, str], Resolved]


def looks_like_aggregate(raw: Any) -> bool:
    return isinstance(raw, str) and AGGREGATE_RE.match(raw) is not None


def lookup_column(view: View | None, raw: Any, path: str) -> tuple[Column | None, list[Problem]]:
    """A column of ``view`` by name (trimmed, case-insensitive); any view's column when view is unknown."""
    if not isinstance(raw, str) or not raw.strip():
        return None, [Problem(path, f"expected a column name, got {kind_of(raw)}", value=echo(raw))]
    if view is not None:
        found = column_for(view, raw)
        if found is not None:
            return found, []
    else:
        wanted = raw.strip().lower()
        found = next((c for c in COLUMNS if c.name.lower() == wanted), None)
        if found is not None:
            return found, []
    candidates = COLUMNS if view is None else columns_of(view)
    names = ", ".join(c.name for c in candidates)
    guess = lenient.did_you_mean(raw, [c.name for c in candidates])
    if view is None:
        message = f"{echo_text(raw)} is not a column; {guess}columns: {names}"
        return None, [Problem(path, message, value=echo(raw))]
    message = f"column {echo_text(raw)} is not in the {view.value} view; {guess}its columns are: {names}"
    return None, [Problem(path, message, value=echo(raw))]


def parse_aggregate(view: View | None, raw: Any, path: str) -> tuple[AggregateExpr | None, list[Problem]]:
    """``FUNC(Column)`` with FUNC trimmed and case-insensitive; SUM and AVG need a numeric column."""
    match = AGGREGATE_RE.match(raw) if isinstance(raw, str) else None
    if match is None:
        funcs = ", ".join(a.value for a in Aggregate)
        message = (
            f"{echo_text(raw)} is not an aggregate expression; write FUNC(Column) with FUNC "
            f"one of {funcs}, e.g. SUM(EventCount)"
        )
        return None, [Problem(path, message, value=echo(raw))]
    func, problems = lenient.enum_value(match.group(1), Aggregate, path)
    column, column_problems = lookup_column(view, match.group(2), path)
    problems.extend(column_problems)
    if func is None or column is None:
        return None, problems
    if column.physical is None:
        return None, [Problem(path, "ReportId is filled per report and cannot be aggregated", echo(raw))]
    if func.needs_numeric and not column.type.is_numeric:
        numeric = ", ".join(c.name for c in COLUMNS if c.type.is_numeric and c.physical is not None)
        return None, [
            Problem(path, f"{func.value} needs a numeric column; numeric columns: {numeric}", echo(raw))
        ]
    return AggregateExpr(func, column), []


def where_resolver(view: View | None) -> Resolver:
    """Attributes of the row filter: stored columns of the view, no aggregates."""

    def resolve(raw: Any, path: str) -> Resolved:
        if looks_like_aggregate(raw):
            message = (
                f"{echo_text(raw)} is an aggregate; aggregates can be filtered only in aggregation.condition"
            )
            return None, [Problem(path, message, echo(raw))]
        column, problems = lookup_column(view, raw, path)
        if column is not None and column.physical is None:
            return None, [Problem(path, "ReportId is filled per report and cannot be filtered", echo(raw))]
        return column, problems

    return resolve


def output_resolver(
    view: View | None, projection: tuple[Column, ...], aggregates: tuple[AggregateExpr, ...]
) -> Resolver:
    """Attributes of orderby and aggregation.condition: projected columns and listed aggregates."""
    allowed = ", ".join([c.name for c in projection] + [a.name for a in aggregates]) or "(none)"

    def resolve(raw: Any, path: str) -> Resolved:
        if looks_like_aggregate(raw):
            expr, problems = parse_aggregate(view, raw, path)
            if expr is not None and expr not in aggregates:
                message = (
                    f"'{expr.name}' is not in aggregation.aggregatedColumns; "
                    f"use a projected column or a listed aggregate: {allowed}"
                )
                return None, [Problem(path, message, echo(raw))]
            return expr, problems
        column, problems = lookup_column(view, raw, path)
        if column is not None and column not in projection:
            message = f"'{column.name}' is neither projected nor aggregated; use one of: {allowed}"
            return None, [Problem(path, message, echo(raw))]
        return column, problems

    return resolve


def kind_of(raw: Any) -> str:
    """How to name a JSON value's kind in a message."""
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "true/false"
    if isinstance(raw, dict):
        return "an object"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, str):
        return f"the string {echo_text(raw)}"
    if isinstance(raw, int | float):
        return f"the number {raw}"
    return type(raw).__name__
