"""Failure rates in a template: ``FAILURERATE(DeviceId)`` and ``aggregation.compareVersions``.

The measure divides failing device-days by the install base (``catalog.rates``), so a rate report
may group only by columns the install base has; each problem is reported with its path, like the rest
of the template.
"""

from __future__ import annotations

from typing import Any

from driverlens.catalog import Column, ColumnType
from driverlens.catalog.rates import (
    COMPARE_KEY,
    GROUP_COLUMNS,
    RATE_COLUMN,
    RATE_EXPRESSION,
    RATE_FUNCTION,
    VERSION_COLUMN,
    RateKind,
)
from driverlens.errors import Problem
from driverlens.lenient import echo, echo_text, join_path
from driverlens.templates.attributes import AGGREGATE_RE, Resolved, Resolver, kind_of
from driverlens.templates.model import RateColumn, RateSpec, Scalar

ALLOWED_GROUPS = ", ".join([*GROUP_COLUMNS, "ReportId"])


def is_rate_expression(raw: Any) -> bool:
    """Whether ``raw`` is written ``FAILURERATE(...)`` (any case, any column)."""
    match = AGGREGATE_RE.match(raw) if isinstance(raw, str) else None
    return match is not None and match.group(1).upper() == RATE_FUNCTION


def check_rate_expression(raw: str, path: str) -> list[Problem]:
    """FAILURERATE takes DeviceId only: it counts failing devices."""
    match = AGGREGATE_RE.match(raw)
    if match is None or match.group(2).strip().lower() != RATE_COLUMN.lower():
        message = f"{RATE_FUNCTION} counts distinct failing devices: write {RATE_EXPRESSION}"
        return [Problem(path, message, echo(raw))]
    return []


def parse_compare(raw: Any) -> tuple[bool, list[Problem]]:
    """``compareVersions``: true or false (also as text)."""
    path = join_path("aggregation", COMPARE_KEY)
    if raw is None:
        return False, []
    if isinstance(raw, bool):
        return raw, []
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true", []
    return False, [Problem(path, f"{COMPARE_KEY} is true or false, got {kind_of(raw)}", echo(raw))]


def check_rate_template(
    rate: RateSpec | None,
    compare_given: bool,
    projection: tuple[Column, ...],
    has_delta: bool,
) -> list[Problem]:
    """The groups a rate can have, and what compareVersions and delta need."""
    problems: list[Problem] = []
    if rate is None:
        if compare_given:
            message = f"{COMPARE_KEY} compares failure rates: add {RATE_EXPRESSION} to aggregatedColumns"
            problems.append(Problem(join_path("aggregation", COMPARE_KEY), message))
        return problems
    for i, column in enumerate(projection):
        if column.physical is not None and column.name not in GROUP_COLUMNS:
            message = (
                f"'{column.name}' is not in the install base, so {RATE_EXPRESSION} cannot be grouped by "
                f"it; a failure-rate report may project: {ALLOWED_GROUPS}"
            )
            problems.append(Problem(join_path("projection", i), message, column.name))
    if rate.compare_versions and all(c.name != VERSION_COLUMN for c in projection):
        message = f"{COMPARE_KEY} compares driver versions: project {VERSION_COLUMN}"
        problems.append(Problem(join_path("aggregation", COMPARE_KEY), message))
    if has_delta:
        message = f"a delta report cannot carry {RATE_EXPRESSION}; compare versions with {COMPARE_KEY}"
        problems.append(Problem("delta", message))
    return problems


def with_rate_columns(resolve: Resolver, rate: RateSpec | None) -> Resolver:
    """``resolve``, also knowing the rate's output columns (for orderby and aggregation.condition)."""
    if rate is None:

        def no_rate(raw: Any, path: str) -> Resolved:
            if isinstance(raw, str) and raw.strip().lower() in _ALL_RATE_NAMES:
                message = f"'{raw.strip()}' is an output of {RATE_EXPRESSION}; add it to aggregatedColumns"
                return None, [Problem(path, message, echo(raw))]
            return resolve(raw, path)

        return no_rate
    columns = {c.name.lower(): c for c in rate.columns}

    def resolve_rate(raw: Any, path: str) -> Resolved:
        if isinstance(raw, str):
            found = columns.get(raw.strip().lower())
            if found is not None:
                return found, []
            if raw.strip().lower() in _ALL_RATE_NAMES:
                names = ", ".join(c.name for c in rate.columns)
                message = (
                    f"'{raw.strip()}' is added by aggregation.{COMPARE_KEY}: set it to true "
                    f"(this template's rate columns: {names})"
                )
                return None, [Problem(path, message, echo(raw))]
            if is_rate_expression(raw):
                names = ", ".join(c.name for c in rate.columns)
                message = f"{echo_text(raw)} stands for several columns; name one of: {names}"
                return None, [Problem(path, message, echo(raw))]
        return resolve(raw, path)

    return resolve_rate


def value_kind(column: RateColumn) -> ColumnType | None:
    """The type filter values of a rate column are coerced to (None: any number)."""
    if column.kind == RateKind.INTEGER:
        return ColumnType.INTEGER
    if column.kind == RateKind.TEXT:
        return ColumnType.STRING
    return None


def coerce_boolean(raw: Any, path: str) -> tuple[Scalar | None, list[Problem]]:
    if isinstance(raw, bool):
        return raw, []
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true", []
    return None, [Problem(path, f"{echo_text(raw)} is not allowed: expected true or false", echo(raw))]


_ALL_RATE_NAMES = {c.name.lower() for c in RateSpec(0, compare_versions=True).columns}
