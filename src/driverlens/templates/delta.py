"""The optional ``delta`` block of a template: compare each run with the report's previous completed run.

``{"key": [...], "measure": "SUM(EventCount)", "regressedRatio": 2.0}``: the key columns name a failure
bucket (projected columns), the measure is a numeric aggregate of the template, and a bucket whose
measure grew to at least ``regressedRatio`` times its previous value is regressed. Parsing collects
every problem with its path, like the rest of the template.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from driverlens import lenient
from driverlens.catalog import Aggregate, Column, View
from driverlens.errors import Problem
from driverlens.lenient import echo, echo_text, join_path
from driverlens.templates.attributes import kind_of, looks_like_aggregate, lookup_column, parse_aggregate
from driverlens.templates.model import AggregateExpr

DELTA_KEYS = ("key", "measure", "regressedRatio")
DEFAULT_RATIO = 2.0
MAX_RATIO = 1_000_000.0
#: Output columns a delta report adds after the template's own.
STATUS_COLUMN = "DeltaStatus"
PREVIOUS_COLUMN = "DeltaPrevious"


@dataclass(frozen=True)
class DeltaSpec:
    """Which columns identify a bucket, which aggregate is compared, and the regression threshold."""

    key: tuple[Column, ...]
    measure: AggregateExpr
    regressed_ratio: float = DEFAULT_RATIO

    def to_canonical(self) -> dict[str, Any]:
        return {
            "key": [c.name for c in self.key],
            "measure": self.measure.name,
            "regressedRatio": self.regressed_ratio,
        }


def parse_delta(
    raw: Any,
    view: View | None,
    projection: tuple[Column, ...],
    aggregates: tuple[AggregateExpr, ...],
) -> tuple[DeltaSpec | None, list[Problem]]:
    """The validated ``delta`` block, or the problems found in it (all of them)."""
    if not isinstance(raw, dict):
        return None, [Problem("delta", f"delta must be a JSON object, got {kind_of(raw)}", echo(raw))]
    block, problems = lenient.canonical_keys(raw, DELTA_KEYS, "delta")
    if not aggregates:
        problems.append(
            Problem(
                "delta",
                "a delta report compares aggregated buckets: give aggregation.aggregatedColumns "
                "(e.g. SUM(EventCount)) and name one of them as delta.measure",
            )
        )
    key = _key(block.get("key"), view, projection, problems)
    measure = _measure(block.get("measure"), view, aggregates, problems)
    ratio = _ratio(block.get("regressedRatio", DEFAULT_RATIO), problems)
    if problems or measure is None or ratio is None:
        return None, problems
    return DeltaSpec(key, measure, ratio), []


def _key(
    raw: Any, view: View | None, projection: tuple[Column, ...], problems: list[Problem]
) -> tuple[Column, ...]:
    path = "delta.key"
    names = ", ".join(c.name for c in projection) or "(none)"
    if raw is None:
        problems.append(Problem(path, f"'key' is required: the projected columns naming a bucket ({names})"))
        return ()
    if not isinstance(raw, list) or not raw:
        problems.append(
            Problem(
                path, f"expected a non-empty JSON list of projected columns, got {kind_of(raw)}", echo(raw)
            )
        )
        return ()
    key: list[Column] = []
    for i, item in enumerate(raw):
        item_path = join_path(path, i)
        column, found = lookup_column(view, item, item_path)
        problems.extend(found)
        if column is None:
            continue
        if column not in projection:
            problems.append(
                Problem(
                    item_path,
                    f"'{column.name}' is not projected; a key column must be one of: {names}",
                    echo(item),
                )
            )
        elif column in key:
            problems.append(Problem(item_path, f"'{column.name}' is listed twice", echo(item)))
        else:
            key.append(column)
    return tuple(key)


def _measure(
    raw: Any, view: View | None, aggregates: tuple[AggregateExpr, ...], problems: list[Problem]
) -> AggregateExpr | None:
    path = "delta.measure"
    numeric = [a.name for a in aggregates if _is_numeric(a)]
    allowed = (
        ", ".join(numeric) or "(none: add e.g. SUM(EventCount) or DCOUNT(DeviceId) to aggregatedColumns)"
    )
    if raw is None:
        problems.append(
            Problem(path, f"'measure' is required: a numeric aggregate of the template ({allowed})")
        )
        return None
    if not looks_like_aggregate(raw):
        message = (
            f"{echo_text(raw)} is not an aggregate; the measure is one of the listed aggregates: {allowed}"
        )
        problems.append(Problem(path, message, echo(raw)))
        return None
    expr, found = parse_aggregate(view, raw, path)
    problems.extend(found)
    if expr is None:
        return None
    if expr not in aggregates:
        message = f"'{expr.name}' is not in aggregation.aggregatedColumns; use one of: {allowed}"
        problems.append(Problem(path, message, echo(raw)))
        return None
    if not _is_numeric(expr):
        message = f"'{expr.name}' is not a number and cannot regress; use one of: {allowed}"
        problems.append(Problem(path, message, echo(raw)))
        return None
    return expr


def _is_numeric(expr: AggregateExpr) -> bool:
    """COUNT, DCOUNT, SUM, AVG, and MIN/MAX of a numeric column."""
    if expr.func in (Aggregate.MIN, Aggregate.MAX):
        return expr.column.type.is_numeric
    return True


def _ratio(raw: Any, problems: list[Problem]) -> float | None:
    path = "delta.regressedRatio"
    value: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            value = None
    if value is None or not math.isfinite(value) or not 1.0 < value <= MAX_RATIO:
        message = (
            f"{echo_text(raw)} is not allowed: regressedRatio is a number above 1 and at most {MAX_RATIO:g} "
            "(2 flags a bucket whose measure at least doubled)"
        )
        problems.append(Problem(path, message, echo(raw)))
        return None
    return value
