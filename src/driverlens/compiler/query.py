"""Template + scope + window -> a SQLGlot SELECT over the failure events (one table per view).

Identifiers come only from the column catalogue and values only become typed literals: nothing a
client sends is ever formatted into SQL text, so no value can change the shape of the query.

UUID columns are stored as their 16 bytes (``events.schema``): filters, grouping, ordering and distinct
counts work on the bytes (byte order is the order of the lowercase text), literals become ``UNHEX('..')``,
and only output values are rendered as canonical UUID text, the same in every dialect.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, UnsupportedError

from driverlens.catalog import OWNER_COLUMNS, Aggregate, Column, ColumnType, Operator, View
from driverlens.compiler.window import DataWindow, Scope
from driverlens.errors import DriverLensError, Forbidden
from driverlens.templates import AggregateExpr, Attribute, Condition, Predicate, Scalar, Template
from driverlens.templates.model import RateColumn

EVENTS_TABLE = "failure_events"
# The table each view reads: the event store keeps OEM-view rows in a second copy clustered by
# (OEM partner, FailureDate), so both views' per-partner scans prune (see driverlens.events.store).
EVENTS_TABLES: dict[View, str] = {View.IHV_DRIVER: EVENTS_TABLE, View.OEM_DRIVER: "failure_events_by_oem"}
DATE_COLUMN = "FailureDate"
DIALECTS = ("duckdb", "spark", "postgres")


class UnsupportedQuery(DriverLensError):
    """The target SQL dialect cannot express part of a compiled query."""

    status = 500
    code = "UnsupportedQuery"


@dataclass(frozen=True)
class CompiledQuery:
    """A compiled report query; ``tree`` is the SQLGlot syntax tree (do not mutate it)."""

    tree: exp.Select
    output_columns: list[str]

    def sql(self, dialect: str = "duckdb", *, pretty: bool = False) -> str:
        """Render for ``dialect``; raises ``UnsupportedQuery`` rather than rewriting silently."""
        try:
            # No defensive copy of the tree: the dialect transforms leave the constructs the compiler
            # builds as they are (tests/compiler/test_properties.py checks that rendering every dialect
            # keeps the tree equal). The tree holds no comments, so skipping them changes nothing.
            return _dialect(dialect).generate(
                self.tree, copy=False, pretty=pretty, comments=False, unsupported_level=ErrorLevel.RAISE
            )
        except UnsupportedError as exc:
            raise UnsupportedQuery(f"the query cannot be expressed in {dialect}: {exc}") from exc


@functools.cache
def _dialect(name: str) -> Dialect:
    # ``Dialect.get_or_raise(name)`` builds a new one per call; it holds only settings, so share it.
    return Dialect.get_or_raise(name)


def compile_template(
    template: Template, scope: Scope, window: DataWindow, report_id: int | None = None
) -> CompiledQuery:
    """Compile a validated template for one partner and one window of failure dates."""
    if scope.kind.view is not template.view:
        raise Forbidden(
            f"a {scope.kind.value} partner may only use {scope.kind.view.value} templates, "
            f"not {template.view.value}",
            target="view",
        )
    if not scope.partner:
        raise ValueError("scope.partner must not be empty")
    if template.rate is not None:
        # Imported here: compiler.rates builds on this module's helpers.
        from driverlens.compiler.rates import compile_rate_template

        return compile_rate_template(template, scope, window, report_id)
    outputs: list[exp.Expr] = [
        _alias(_output_column(column, report_id), column.name) for column in template.projection
    ]
    outputs += [_alias(_output_aggregate(agg), agg.name) for agg in template.aggregates]
    filters: list[exp.Expr] = [
        exp.EQ(this=_column(OWNER_COLUMNS[template.view]), expression=exp.Literal.string(scope.partner)),
        exp.GTE(this=_column(DATE_COLUMN), expression=_date(window.start)),
        exp.LT(this=_column(DATE_COLUMN), expression=_date(window.end)),
    ]
    if template.condition is not None:
        filters.append(_condition(template.condition))
    # The clause nodes the Select builder methods (from_, where, group_by, ...) would make, built
    # directly: the builders wrap, unwrap and re-parent each node on the way.
    clauses: dict[str, exp.Expr] = {
        "from_": exp.From(this=exp.Table(this=_identifier(EVENTS_TABLES[template.view]))),
        "where": exp.Where(this=_all_of(filters)),
    }
    if template.aggregates:
        keys = [_column(c.physical) for c in template.projection if c.physical is not None]
        if keys:
            clauses["group"] = exp.Group(expressions=keys)
    if template.having is not None:
        clauses["having"] = exp.Having(this=_condition(template.having))
    ordered = _total_order(template)
    if ordered:
        clauses["order"] = exp.Order(expressions=ordered)
    if template.limit > 0:
        clauses["limit"] = exp.Limit(expression=exp.Literal.number(template.limit))
    query = exp.Select(expressions=outputs, **clauses)
    return CompiledQuery(tree=query, output_columns=template.output_columns)


def _total_order(template: Template) -> list[exp.Ordered]:
    """The template's ordering, then the projected columns ascending: a total order of the rows.

    Rows tied on the template's sort keys would otherwise come out in whatever order the engine's
    threads finish, so two runs over the same events could differ in bytes (and sha256). The projected
    columns are the group keys when aggregating (one row per key) and every output column when not,
    where two rows equal in all of them are the same bytes; so ties are gone, also in which rows a
    ``limit`` keeps. An aggregate without keys is one row and needs no order.
    """
    keys: list[tuple[exp.Expr, bool]] = [
        (_sort_key(o.attribute), o.sort.value == "desc")
        for o in template.orderby
        if not (isinstance(o.attribute, Column) and o.attribute.physical is None)
    ]
    for column in template.projection:
        if column.physical is None:
            continue  # ReportId: the same literal on every row
        node = _column(column.physical)
        if all(node != seen for seen, _ in keys):
            keys.append((node, False))
    return [exp.Ordered(this=node, desc=desc, nulls_first=False) for node, desc in keys]


def _sort_key(attribute: Attribute) -> exp.Expr:
    """An ORDER BY key: a column, or an aggregate by its output name.

    Spark cannot resolve an aggregate repeated in ORDER BY over a column that is also an output name
    (``ORDER BY COUNT(ReleaseName)`` beside ``ReleaseName AS ReleaseName``); every dialect orders by an
    output name, and aggregate names (``COUNT(ReleaseName)``) never equal a column's.
    """
    if isinstance(attribute, AggregateExpr):
        return exp.Column(this=_identifier(attribute.name))
    return _attribute(attribute)


def _identifier(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def _alias(node: exp.Expr, name: str) -> exp.Alias:
    # What ``exp.alias_(node, name, quoted=True)`` builds, without its copy of the freshly built node.
    return exp.Alias(this=node, alias=_identifier(name))


def _column(physical: str) -> exp.Column:
    return exp.Column(this=_identifier(physical))


def _output_column(column: Column, report_id: int | None) -> exp.Expr:
    if column.physical is None:  # ReportId: the same literal on every row
        value: exp.Expr = exp.Null() if report_id is None else exp.Literal.number(report_id)
        return exp.Cast(this=value, to=_data_type("BIGINT"))
    if column.type is ColumnType.UUID:
        return _uuid_text(_column(column.physical))
    return _column(column.physical)


# (start, length) of the five groups of a UUID's 32 hex digits.
_UUID_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


def _uuid_text(raw: exp.Expr) -> exp.Expr:
    """16 stored bytes -> canonical lowercase UUID text (NULL stays NULL)."""
    digits = exp.Lower(this=exp.Hex(this=raw))
    parts: list[exp.Expr] = []
    for start, length in _UUID_GROUPS:
        if parts:
            parts.append(exp.Literal.string("-"))
        parts.append(
            exp.Substring(
                this=digits.copy(), start=exp.Literal.number(start), length=exp.Literal.number(length)
            )
        )
    result = parts[0]
    for part in parts[1:]:
        result = exp.DPipe(this=result, expression=part, safe=True)
    return result


_AGGREGATES: dict[Aggregate, Callable[[exp.Expr], exp.Expr]] = {
    Aggregate.SUM: lambda e: exp.Sum(this=e),
    Aggregate.AVG: lambda e: exp.Avg(this=e),
    Aggregate.COUNT: lambda e: exp.Count(this=e),
    Aggregate.DCOUNT: lambda e: exp.Count(this=exp.Distinct(expressions=[e])),
    Aggregate.MAX: lambda e: exp.Max(this=e),
    Aggregate.MIN: lambda e: exp.Min(this=e),
}


def _aggregate(agg: AggregateExpr) -> exp.Expr:
    physical = agg.column.physical
    if physical is None:
        raise ValueError("ReportId cannot be aggregated")
    return _AGGREGATES[agg.func](_column(physical))


def _output_aggregate(agg: AggregateExpr) -> exp.Expr:
    """An output aggregate: SUM of an integer column cast back to BIGINT, MIN/MAX of a UUID as text.

    DuckDB sums BIGINT into HUGEINT (written to Parquet as a double) and PostgreSQL into NUMERIC, so
    without the cast ``SUM(EventCount)`` would be an integer in CSV but a float in Parquet. A sum past
    the BIGINT range (9.2e18 events) fails the run instead of being rounded.
    """
    node = _aggregate(agg)
    if agg.func is Aggregate.SUM and agg.column.type is ColumnType.INTEGER:
        return exp.Cast(this=node, to=_data_type("BIGINT"))
    if agg.column.type is ColumnType.UUID and agg.func in (Aggregate.MIN, Aggregate.MAX):
        return _uuid_text(node)
    return node


def _attribute(attribute: Attribute) -> exp.Expr:
    if isinstance(attribute, AggregateExpr):
        return _aggregate(attribute)
    if isinstance(attribute, RateColumn):
        raise ValueError("rate columns are compiled by compiler.rates")
    if attribute.physical is None:
        raise ValueError("ReportId cannot be filtered")
    return _column(attribute.physical)


def _date(value: date) -> exp.Expr:
    return exp.Cast(this=exp.Literal.string(value.isoformat()), to=_data_type("DATE"))


def _data_type(name: str) -> exp.DataType:
    # The node ``DataType.build(name)`` gives, without running the SQL tokenizer and parser on ``name``.
    return exp.DataType(this=exp.DataType.Type[name], nested=False)


def _literal(value: Scalar) -> exp.Expr:
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ")
        return exp.Cast(this=exp.Literal.string(text), to=_data_type("TIMESTAMP"))
    if isinstance(value, date):
        return _date(value)
    if isinstance(value, uuid.UUID):
        return exp.Unhex(this=exp.Literal.string(value.hex))
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(value)


_COMPARISONS: dict[Operator, type[exp.Binary]] = {
    Operator.EQ: exp.EQ,
    Operator.NEQ: exp.NEQ,
    Operator.LT: exp.LT,
    Operator.GT: exp.GT,
    Operator.LTE: exp.LTE,
    Operator.GTE: exp.GTE,
    Operator.LIKE: exp.Like,
}


def _predicate(predicate: Predicate) -> exp.Expr:
    target = _attribute(predicate.attribute)
    value = predicate.value
    if predicate.operator is Operator.IN:
        values = value if isinstance(value, tuple) else (value,)
        return exp.In(this=target, expressions=[_literal(v) for v in values])
    if isinstance(value, tuple):
        raise ValueError(f"{predicate.operator.value} takes one value")
    comparison = _COMPARISONS.get(predicate.operator)
    if comparison is None:
        raise ValueError(f"operator {predicate.operator.value} cannot be compiled")
    return comparison(this=target, expression=_literal(value))


def _item(item: Predicate | Condition) -> exp.Expr:
    return _condition(item) if isinstance(item, Condition) else _predicate(item)


def _condition(condition: Condition) -> exp.Expr:
    parts: list[exp.Expr] = []
    if condition.all_of:
        parts.append(_all_of([_item(i) for i in condition.all_of]))
    if condition.any_of:
        parts.append(_any_of([_item(i) for i in condition.any_of]))
    return _all_of(parts)


def _wrap(node: exp.Expr) -> exp.Expr:
    return exp.Paren(this=node) if isinstance(node, exp.Connector) else node


def _all_of(nodes: Sequence[exp.Expr]) -> exp.Expr:
    result = _wrap(nodes[0])
    for node in nodes[1:]:
        result = exp.And(this=result, expression=_wrap(node))
    return result


def _any_of(nodes: Sequence[exp.Expr]) -> exp.Expr:
    result = _wrap(nodes[0])
    for node in nodes[1:]:
        result = exp.Or(this=result, expression=_wrap(node))
    return result
