"""Delta reports in SQL: the base query, and the comparison of two runs' full results (Parquet files).

A delta run first writes the template's full result (no ``limit``) as a Parquet "base" with whichever
engine runs the report; the comparison then runs in DuckDB over that file and the previous run's base,
the same SQL for both engines. Buckets are matched on the key columns (``IS NOT DISTINCT FROM``, so a
NULL key matches a NULL key):

- ``New``: in this run only; ``Resolved``: in the previous run only (its aggregates are NULL here);
- ``Regressed``: in both, and the measure grew to at least ``regressedRatio`` times the previous one
  (a previous NULL counts as 0; an unchanged or shrinking measure never regresses).

``DeltaPrevious`` is the previous measure. Rows come out New, then Regressed, then Resolved, each in
the template's order with the projected columns as tie-breaks; the template's ``limit`` trims this
output (the base always keeps every bucket). Like every compiled query the tree is built from
SQLGlot expressions; the two file paths are ones the worker generated.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from sqlglot import exp

from driverlens.compiler.query import CompiledQuery
from driverlens.compiler.spreadsheet import formula_safe, text_columns
from driverlens.templates.delta import PREVIOUS_COLUMN, STATUS_COLUMN, DeltaSpec
from driverlens.templates.model import Template

_CUR, _PREV, _DELTA = "cur", "prev", "delta"
_CUR_PRESENT, _PREV_PRESENT, _RANK = "__cur", "__prev", "__rank"


class DeltaStatus(StrEnum):
    NEW = "New"
    REGRESSED = "Regressed"
    RESOLVED = "Resolved"
    #: The first run of a report (or the first after its output columns changed): every bucket, unflagged.
    BASELINE = "Baseline"


_RANKS = {DeltaStatus.NEW: 1, DeltaStatus.REGRESSED: 2, DeltaStatus.RESOLVED: 3}


def base_template(template: Template) -> Template:
    """The template whose result is a delta run's base: every bucket (no limit), no delta block."""
    return dataclasses.replace(template, limit=0, delta=None)


def _spec(template: Template) -> DeltaSpec:
    if template.delta is None:
        raise ValueError("the template has no delta block")
    return template.delta


def _ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=_ident(name), table=exp.Identifier(this=table) if table else None)


def _parquet(path: str, alias: str, marker: str) -> exp.Subquery:
    """``(SELECT *, TRUE AS marker FROM read_parquet('path')) AS alias``."""
    source = exp.Anonymous(this="read_parquet", expressions=[exp.Literal.string(path)])
    select = exp.Select(
        expressions=[exp.Star(), exp.Alias(this=exp.true(), alias=_ident(marker))],
        from_=exp.From(this=exp.Table(this=source)),
    )
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.Identifier(this=alias)))


@dataclass(frozen=True)
class DeltaSql:
    """The comparison of two base files, as a report query and as per-status counts."""

    report: CompiledQuery
    counts: CompiledQuery


def comparison(
    template: Template,
    current: str,
    previous: str,
    *,
    spreadsheet_safe: bool = False,
) -> DeltaSql:
    """Compare the base at ``current`` with the base at ``previous`` (Parquet paths) for ``template``."""
    spec = _spec(template)
    keys = {c.name for c in spec.key}
    measure = spec.measure.name
    present_cur = _col(_CUR_PRESENT, _CUR)
    present_prev = _col(_PREV_PRESENT, _PREV)
    columns: list[exp.Expr] = []
    for column in template.projection:
        name = column.name
        if name in keys:
            value: exp.Expr = exp.Coalesce(this=_col(name, _CUR), expressions=[_col(name, _PREV)])
        else:  # not part of the key: this run's value, the previous one's for a resolved bucket
            value = exp.If(this=present_cur, true=_col(name, _CUR), false=_col(name, _PREV))
        columns.append(exp.Alias(this=value, alias=_ident(name)))
    for aggregate in template.aggregates:
        columns.append(exp.Alias(this=_col(aggregate.name, _CUR), alias=_ident(aggregate.name)))
    now, before = (
        _col(measure, _CUR),
        exp.Coalesce(this=_col(measure, _PREV), expressions=[exp.Literal.number(0)]),
    )
    regressed = exp.and_(
        exp.GTE(
            this=now, expression=exp.Mul(this=exp.Literal.number(spec.regressed_ratio), expression=before)
        ),
        exp.GT(this=now.copy(), expression=before.copy()),
    )
    status = exp.Case(
        ifs=[
            exp.If(
                this=exp.Not(this=exp.Coalesce(this=present_prev, expressions=[exp.false()])),
                true=exp.Literal.string(DeltaStatus.NEW),
            ),
            exp.If(
                this=exp.Not(this=exp.Coalesce(this=present_cur.copy(), expressions=[exp.false()])),
                true=exp.Literal.string(DeltaStatus.RESOLVED),
            ),
            exp.If(this=regressed, true=exp.Literal.string(DeltaStatus.REGRESSED)),
        ]
    )
    columns.append(exp.Alias(this=status, alias=_ident(STATUS_COLUMN)))
    columns.append(exp.Alias(this=_col(measure, _PREV), alias=_ident(PREVIOUS_COLUMN)))
    join_on = exp.and_(
        *(exp.NullSafeEQ(this=_col(c.name, _CUR), expression=_col(c.name, _PREV)) for c in spec.key)
    )
    joined = exp.Select(
        expressions=columns,
        from_=exp.From(this=_parquet(current, _CUR, _CUR_PRESENT)),
        joins=[
            exp.Join(this=_parquet(previous, _PREV, _PREV_PRESENT), side="FULL", kind="OUTER", on=join_on)
        ],
    )
    changed = exp.Select(
        expressions=[exp.Star()],
        from_=exp.From(
            this=exp.Subquery(this=joined, alias=exp.TableAlias(this=exp.Identifier(this=_DELTA)))
        ),
        where=exp.Where(this=exp.Not(this=exp.Is(this=_col(STATUS_COLUMN), expression=exp.Null()))),
    )
    rank = exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=_col(STATUS_COLUMN), expression=exp.Literal.string(s)),
                true=exp.Literal.number(r),
            )
            for s, r in _RANKS.items()
        ]
    )
    report = _ordered_output(template, changed, rank, spreadsheet_safe)
    counts = exp.Select(
        expressions=[_col(STATUS_COLUMN), exp.Alias(this=exp.Count(this=exp.Star()), alias=_ident("n"))],
        from_=exp.From(
            this=exp.Subquery(this=changed.copy(), alias=exp.TableAlias(this=exp.Identifier(this=_DELTA)))
        ),
        group=exp.Group(expressions=[_col(STATUS_COLUMN)]),
    )
    return DeltaSql(report, CompiledQuery(tree=counts, output_columns=[STATUS_COLUMN, "n"]))


def duplicate_key_probe(template: Template, current: str) -> exp.Select:
    """One row when some key of the base at ``current`` has several rows, none when the key is unique."""
    spec = _spec(template)
    source = exp.Anonymous(this="read_parquet", expressions=[exp.Literal.string(current)])
    return exp.Select(
        expressions=[exp.Literal.number(1)],
        from_=exp.From(this=exp.Table(this=source)),
        group=exp.Group(expressions=[_col(c.name) for c in spec.key]),
        having=exp.Having(this=exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1))),
        limit=exp.Limit(expression=exp.Literal.number(1)),
    )


def baseline(
    template: Template, current: str, previous_type: str, *, spreadsheet_safe: bool = False
) -> CompiledQuery:
    """Every bucket of the base at ``current`` with ``DeltaStatus`` = Baseline (nothing to compare with).

    ``previous_type`` is the measure's SQL type, so ``DeltaPrevious`` (NULL here) is typed as in a
    compared run's file.
    """
    spec = _spec(template)
    columns: list[exp.Expr] = [exp.Alias(this=_col(n), alias=_ident(n)) for n in template.output_columns]
    columns.append(exp.Alias(this=exp.Literal.string(DeltaStatus.BASELINE), alias=_ident(STATUS_COLUMN)))
    null = exp.Cast(this=exp.Null(), to=exp.DataType.build(previous_type, dialect="duckdb"))
    columns.append(exp.Alias(this=null, alias=_ident(PREVIOUS_COLUMN)))
    del spec
    rows = exp.Select(expressions=columns, from_=exp.From(this=_parquet(current, _DELTA, _CUR_PRESENT)))
    return _ordered_output(template, rows, exp.Literal.number(0), spreadsheet_safe)


def _ordered_output(
    template: Template, rows: exp.Select, rank: exp.Expr, spreadsheet_safe: bool
) -> CompiledQuery:
    """``rows`` ordered by status, the template's order and the projection, limited, formula-safe."""
    names = [*template.output_columns, STATUS_COLUMN, PREVIOUS_COLUMN]
    inner = exp.Select(
        expressions=[exp.Star(), exp.Alias(this=rank, alias=_ident(_RANK))],
        from_=exp.From(this=exp.Subquery(this=rows, alias=exp.TableAlias(this=exp.Identifier(this="r")))),
    )
    texts = text_columns(template) if spreadsheet_safe else set()
    outputs = [
        exp.Alias(this=formula_safe(_col(n, _DELTA)) if n in texts else _col(n, _DELTA), alias=_ident(n))
        for n in names
    ]
    order: list[exp.Ordered] = [exp.Ordered(this=_col(_RANK, _DELTA), desc=False, nulls_first=False)]
    ordered_names = {_RANK}
    for item in template.orderby:
        order.append(
            exp.Ordered(
                this=_col(item.attribute.name, _DELTA), desc=item.sort.value == "desc", nulls_first=False
            )
        )
        ordered_names.add(item.attribute.name)
    for column in template.projection:
        if column.name not in ordered_names:
            order.append(exp.Ordered(this=_col(column.name, _DELTA), desc=False, nulls_first=False))
    select = exp.Select(
        expressions=outputs,
        from_=exp.From(this=exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.Identifier(this=_DELTA)))),
        order=exp.Order(expressions=order),
    )
    if template.limit:
        select = select.limit(template.limit)
    return CompiledQuery(tree=select, output_columns=names)
