"""The validated, immutable template model and its canonical JSON form."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from driverlens.catalog import Aggregate, Column, ColumnType, Operator, ReportPeriod, View
from driverlens.catalog.rates import COMPARE_COLUMNS, COMPARE_KEY, RATE_COLUMNS, RATE_EXPRESSION

if TYPE_CHECKING:
    from driverlens.templates.delta import DeltaSpec

# A filter value after coercion to its column's type.
Scalar = str | int | float | date | datetime | uuid.UUID
Value = Scalar | tuple[Scalar, ...]


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class AggregateExpr:
    """``FUNC(Column)``, e.g. ``SUM(EventCount)``."""

    func: Aggregate
    column: Column

    @property
    def name(self) -> str:
        return f"{self.func.value}({self.column.name})"

    @property
    def value_type(self) -> ColumnType | None:
        """Type of the aggregate's result; None means a fractional number (AVG)."""
        if self.func is Aggregate.AVG:
            return None
        if self.func in (Aggregate.COUNT, Aggregate.DCOUNT):
            return ColumnType.INTEGER
        return self.column.type


@dataclass(frozen=True)
class RateColumn:
    """An output column of ``FAILURERATE(DeviceId)`` (``catalog.rates``), e.g. ``FailureRate``."""

    name: str
    kind: str  # a ``catalog.rates.RateKind``


@dataclass(frozen=True)
class RateSpec:
    """``FAILURERATE(DeviceId)`` at ``position`` in ``aggregatedColumns``, and ``compareVersions``."""

    position: int
    compare_versions: bool = False

    @property
    def columns(self) -> tuple[RateColumn, ...]:
        infos = RATE_COLUMNS + (COMPARE_COLUMNS if self.compare_versions else ())
        return tuple(RateColumn(i.name, i.kind) for i in infos)


Attribute = Column | AggregateExpr | RateColumn


def attribute_name(attribute: Attribute) -> str:
    return attribute.name


@dataclass(frozen=True)
class Predicate:
    attribute: Attribute
    operator: Operator
    value: Value


@dataclass(frozen=True)
class Condition:
    """``all_of`` items must all hold (``and``); one of ``any_of`` must hold (``or``); never both empty."""

    all_of: tuple[Predicate | Condition, ...] = ()
    any_of: tuple[Predicate | Condition, ...] = ()


@dataclass(frozen=True)
class OrderBy:
    attribute: Attribute
    sort: SortOrder = SortOrder.ASC


@dataclass(frozen=True)
class Template:
    view: View
    projection: tuple[Column, ...]
    report_period: ReportPeriod
    condition: Condition | None = None
    aggregates: tuple[AggregateExpr, ...] = ()
    having: Condition | None = None
    orderby: tuple[OrderBy, ...] = ()
    limit: int = 0
    # Delta reports (``templates.delta``): compare each run with the report's previous completed run.
    delta: DeltaSpec | None = None
    # Failure rates (``templates.rates``): FAILURERATE(DeviceId) and its position among the aggregates.
    rate: RateSpec | None = None

    @property
    def output_columns(self) -> list[str]:
        """Output column names: the projection, then the aggregates, as written canonically.

        ``FAILURERATE(DeviceId)`` stands for its five columns at its place in the list; the columns of
        ``compareVersions`` come last.
        """
        names = [c.name for c in self.projection] + [a.name for a in self.aggregates]
        if self.rate is None:
            return names
        at = len(self.projection) + self.rate.position
        rate_names = [c.name for c in self.rate.columns]
        own, compare = rate_names[: len(RATE_COLUMNS)], rate_names[len(RATE_COLUMNS) :]
        return names[:at] + own + names[at:] + compare

    @property
    def aggregated(self) -> bool:
        """Whether the template aggregates (ordinary aggregates or a failure rate)."""
        return bool(self.aggregates) or self.rate is not None

    def aggregate_names(self) -> list[str]:
        """``aggregatedColumns`` as written canonically (FAILURERATE at its place)."""
        names = [a.name for a in self.aggregates]
        if self.rate is not None:
            names.insert(self.rate.position, RATE_EXPRESSION)
        return names

    def to_canonical(self) -> dict[str, Any]:
        """The template in canonical spelling; ``parse_template`` of it gives back an equal template."""
        body: dict[str, Any] = {
            "view": self.view.value,
            "projection": [c.name for c in self.projection],
            "dateRange": {"reportPeriod": self.report_period.value},
        }
        if self.condition is not None:
            body["condition"] = _condition_json(self.condition)
        if self.aggregated or self.having is not None:
            aggregation: dict[str, Any] = {"aggregatedColumns": self.aggregate_names()}
            if self.having is not None:
                aggregation["condition"] = _condition_json(self.having)
            if self.rate is not None and self.rate.compare_versions:
                aggregation[COMPARE_KEY] = True
            body["aggregation"] = aggregation
        if self.orderby:
            body["orderby"] = [{"attribute": o.attribute.name, "sort": o.sort.value} for o in self.orderby]
        if self.limit:
            body["limit"] = self.limit
        if self.delta is not None:
            body["delta"] = self.delta.to_canonical()
        return body


def _condition_json(condition: Condition) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if condition.all_of:
        out["and"] = [_item_json(item) for item in condition.all_of]
    if condition.any_of:
        out["or"] = [_item_json(item) for item in condition.any_of]
    return out


def _item_json(item: Predicate | Condition) -> dict[str, Any]:
    if isinstance(item, Condition):
        return {"condition": _condition_json(item)}
    value = item.value
    json_value: Any = [scalar_json(v) for v in value] if isinstance(value, tuple) else scalar_json(value)
    return {"attribute": item.attribute.name, "operator": item.operator.value, "value": json_value}


def scalar_json(value: Scalar) -> Any:
    """JSON form of a coerced value: dates ISO, timestamps ISO with ``Z``, UUIDs lowercase text."""
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
