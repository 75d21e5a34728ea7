"""Spreadsheet-safe text cells: a cell that starts like a formula is written with a leading quote.

Spreadsheet programs run a CSV or TSV cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some,
after a leading tab or carriage return) as a formula, so a failure name chosen by whoever crashed a
driver could run in the partner's spreadsheet. Prefixing ``'`` makes the program show the text as it is
(OWASP's advice for CSV injection). Only text columns are touched; numbers, dates and GUIDs cannot
start that way.
"""

from __future__ import annotations

from sqlglot import exp

from driverlens.catalog import ColumnType
from driverlens.catalog.rates import RateKind
from driverlens.compiler.query import CompiledQuery
from driverlens.templates.model import Template

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SUBQUERY = "report"


def text_columns(template: Template) -> set[str]:
    """Output columns holding text (string columns, and MIN/MAX of them)."""
    names = {c.name for c in template.projection if c.type is ColumnType.STRING}
    names |= {a.name for a in template.aggregates if a.value_type is ColumnType.STRING}
    if template.rate is not None:
        names |= {c.name for c in template.rate.columns if c.kind == RateKind.TEXT}
    return names


def formula_safe(column: exp.Expr) -> exp.Expr:
    """``column``, with ``'`` in front when its text starts like a formula."""
    starts = exp.In(
        this=exp.Substring(this=column, start=exp.Literal.number(1), length=exp.Literal.number(1)),
        expressions=[exp.Literal.string(s) for s in FORMULA_STARTS],
    )
    quoted = exp.DPipe(this=exp.Literal.string("'"), expression=column.copy(), safe=True)
    return exp.Case(ifs=[exp.If(this=starts, true=quoted)], default=column.copy())


def neutralise_formulas(query: CompiledQuery, template: Template) -> CompiledQuery:
    """The same rows, with every text cell that starts like a formula prefixed by ``'``."""
    texts = text_columns(template)
    if not texts:
        return query
    outputs: list[exp.Expr] = []
    for name in query.output_columns:
        column = exp.Column(this=exp.Identifier(this=name, quoted=True))
        value: exp.Expr = column
        if name in texts:
            value = formula_safe(column)
        outputs.append(exp.Alias(this=value, alias=exp.Identifier(this=name, quoted=True)))
    inner = exp.Subquery(this=query.tree, alias=exp.TableAlias(this=exp.Identifier(this=_SUBQUERY)))
    clauses: dict[str, exp.Expr] = {"from_": exp.From(this=inner)}
    # SQL keeps no order through a subquery: order again, by the inner (unprefixed) values.
    ordered = [
        exp.Ordered(
            this=exp.Column(
                this=exp.Identifier(this=o.attribute.name, quoted=True), table=exp.Identifier(this=_SUBQUERY)
            ),
            desc=o.sort.value == "desc",
            nulls_first=False,
        )
        for o in template.orderby
        if o.attribute.name in query.output_columns
    ]
    if ordered:
        clauses["order"] = exp.Order(expressions=ordered)
    wrapped = exp.Select(expressions=outputs, **clauses)
    return CompiledQuery(tree=wrapped, output_columns=query.output_columns)
