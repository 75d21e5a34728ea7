"""Failure-rate templates -> one SQLGlot SELECT of CTEs over the events and the install base.

``FAILURERATE(DeviceId)`` (``catalog.rates``): per group, failing device-days over the window (the
distinct (device, day) pairs of the events view, scoped and filtered like any report) divided by the
installed device-days (from ``install_base``: its daily device counts summed over the window). Both sides
count a device once for each day it ran, so the rate is the share of running devices that fail on a day,
whatever part of the window a version was installed for. The two sides are joined on the group keys (full
outer join: a group with installs and no failure has rate 0, a failing group missing from the install
base has no rate). ``compareVersions`` adds, with a window function, the row of the version each driver
version replaces in version order.

CTEs, in order: ``failing`` (events), ``installs_daily`` and ``installs`` (install base), ``counted``
(joined, the denominator as a double), ``measured`` (rate and Wilson interval), ``compared`` (with
``compareVersions``); the final SELECT applies ``aggregation.condition``, the order and the limit by
output name. Identifiers come from the catalogue, values only become literals, as in ``compiler.query``.
"""

from __future__ import annotations

from sqlglot import exp

from driverlens.catalog import OWNER_COLUMNS, Column, Operator
from driverlens.catalog.rates import GROUP_COLUMNS, VERSION_COLUMN, Z_95
from driverlens.compiler.query import (
    _COMPARISONS,
    DATE_COLUMN,
    EVENTS_TABLES,
    CompiledQuery,
    _alias,
    _all_of,
    _any_of,
    _column,
    _condition,
    _data_type,
    _date,
    _identifier,
    _literal,
    _output_aggregate,
    _output_column,
)
from driverlens.compiler.window import DataWindow, Scope
from driverlens.installs import table as install_table
from driverlens.templates import AggregateExpr, Condition, Predicate, Template

Z2 = Z_95 * Z_95
# Dotted numeric parts of a version compared in order (Windows driver versions have four).
VERSION_PARTS = 4
_DAILY = "DailyDevices"
_DAY = "Day"
_N = "_n"  # the denominator, a double; null when the install base has no device for the group
_K = "_k"  # FailingDeviceDays as a double
_P = "_p"  # the rate


def compile_rate_template(
    template: Template, scope: Scope, window: DataWindow, report_id: int | None
) -> CompiledQuery:
    """Compile a validated template carrying ``FAILURERATE(DeviceId)`` (scope already checked)."""
    rate = template.rate
    if rate is None:
        raise ValueError("the template has no failure rate")
    keys = [c for c in template.projection if c.physical is not None]
    key_names = [c.name for c in keys]
    ctes: list[tuple[str, exp.Select]] = [
        ("failing", _failing(template, scope, window, keys)),
        ("installs_daily", _installs_daily(template, scope, window, keys)),
        ("installs", _installs(key_names)),
        ("counted", _counted(template, key_names)),
        ("measured", _measured(template, key_names)),
    ]
    last = "measured"
    if rate.compare_versions:
        ctes.append(("compared", _compared(template, key_names)))
        last = "compared"
    outputs: list[exp.Expr] = []
    for column in template.projection:
        node = _output_column(column, report_id) if column.physical is None else _name(column.name)
        outputs.append(_alias(node, column.name))
    outputs += [_alias(_name(n), n) for n in template.output_columns[len(template.projection) :]]
    clauses: dict[str, exp.Expr] = {"from_": exp.From(this=_table(last))}
    if template.having is not None:
        clauses["where"] = exp.Where(this=_output_condition(template.having))
    order = _order(template, key_names)
    if order:
        clauses["order"] = exp.Order(expressions=order)
    if template.limit > 0:
        clauses["limit"] = exp.Limit(expression=exp.Literal.number(template.limit))
    select = exp.Select(expressions=outputs, **clauses)
    select.set(
        "with_",
        exp.With(
            expressions=[
                exp.CTE(this=body, alias=exp.TableAlias(this=_identifier(name))) for name, body in ctes
            ]
        ),
    )
    return CompiledQuery(tree=select, output_columns=template.output_columns)


def _failing(template: Template, scope: Scope, window: DataWindow, keys: list[Column]) -> exp.Select:
    """Failing device-days (and the template's other aggregates) per group, from the events."""
    filters: list[exp.Expr] = [
        exp.EQ(this=_column(OWNER_COLUMNS[template.view]), expression=exp.Literal.string(scope.partner)),
        exp.GTE(this=_column(DATE_COLUMN), expression=_date(window.start)),
        exp.LT(this=_column(DATE_COLUMN), expression=_date(window.end)),
    ]
    if template.condition is not None:
        filters.append(_condition(template.condition))
    device_days = exp.Count(this=exp.Distinct(expressions=[_column("DeviceId"), _column(DATE_COLUMN)]))
    outputs: list[exp.Expr] = [_alias(_column(c.name), c.name) for c in keys]
    outputs.append(_alias(device_days, "FailingDeviceDays"))
    outputs += [_alias(_output_aggregate(a), a.name) for a in template.aggregates]
    clauses: dict[str, exp.Expr] = {
        "from_": exp.From(this=exp.Table(this=_identifier(EVENTS_TABLES[template.view]))),
        "where": exp.Where(this=_all_of(filters)),
    }
    if keys:
        clauses["group"] = exp.Group(expressions=[_column(c.name) for c in keys])
    return exp.Select(expressions=outputs, **clauses)


def _installs_daily(template: Template, scope: Scope, window: DataWindow, keys: list[Column]) -> exp.Select:
    """The install base's devices per group and day, scoped like the events and filtered by the
    condition's predicates on columns it has (``install_condition``)."""
    day = _column(install_table.DATE_COLUMN)
    filters: list[exp.Expr] = [
        exp.EQ(this=_column(OWNER_COLUMNS[template.view]), expression=exp.Literal.string(scope.partner)),
        exp.GTE(this=day, expression=_date(window.start)),
        exp.LT(this=day.copy(), expression=_date(window.end)),
    ]
    if template.condition is not None:
        relaxed = install_condition(template.condition)
        if relaxed is not None:
            filters.append(relaxed)
    outputs: list[exp.Expr] = [_alias(_column(GROUP_COLUMNS[c.name]), c.name) for c in keys]
    outputs.append(_alias(day.copy(), _DAY))
    total = exp.Sum(this=_column(install_table.COUNT_COLUMN))
    outputs.append(_alias(_bigint(total), _DAILY))
    group = [_column(GROUP_COLUMNS[c.name]) for c in keys if GROUP_COLUMNS[c.name] != day.name]
    group.append(day.copy())
    return exp.Select(
        expressions=outputs,
        from_=exp.From(this=exp.Table(this=_identifier(install_table.VIEW))),
        where=exp.Where(this=_all_of(filters)),
        group=exp.Group(expressions=group),
    )


def install_condition(condition: Condition) -> exp.Expr | None:
    """``condition`` for the install base: a predicate on a column it lacks counts as true.

    Conditions have no NOT, so this is the tightest filter the install base can apply that keeps every
    install row of a device the condition lets fail; None when nothing is left (no filter).
    """
    parts: list[exp.Expr] = []
    if condition.all_of:
        kept = [n for n in (_install_item(i) for i in condition.all_of) if n is not None]
        if kept:
            parts.append(_all_of(kept))
    if condition.any_of:
        alternatives = [_install_item(i) for i in condition.any_of]
        if all(n is not None for n in alternatives):
            parts.append(_any_of([n for n in alternatives if n is not None]))
    return _all_of(parts) if parts else None


def _install_item(item: Predicate | Condition) -> exp.Expr | None:
    if isinstance(item, Condition):
        return install_condition(item)
    attribute = item.attribute
    if not isinstance(attribute, Column) or attribute.name not in GROUP_COLUMNS:
        return None
    target = GROUP_COLUMNS[attribute.name]
    # The same predicate compiled for the events, pointed at the install base's column.
    node = _condition(Condition(all_of=(item,)))
    for column in node.find_all(exp.Column):
        column.set("this", _identifier(target))
    return node


def _installs(key_names: list[str]) -> exp.Select:
    """Installed device-days per group: the daily counts summed over the window, as the events side
    counts a device once for each day it failed."""
    outputs: list[exp.Expr] = [_alias(_name(n), n) for n in key_names]
    outputs.append(_alias(_bigint(exp.Sum(this=_name(_DAILY))), "InstalledDeviceDays"))
    clauses: dict[str, exp.Expr] = {"from_": exp.From(this=_table("installs_daily"))}
    if key_names:
        clauses["group"] = exp.Group(expressions=[_name(n) for n in key_names])
    return exp.Select(expressions=outputs, **clauses)


def _counted(template: Template, key_names: list[str]) -> exp.Select:
    """Failing and installed devices side by side, and the denominator as a double.

    The denominator is InstalledDeviceDays, or FailingDeviceDays when the install base counts fewer devices
    than failed (inconsistent data: the rate is then 1, never above); null when it counts none.
    """
    failing, installs = "f", "i"
    outputs: list[exp.Expr] = [
        _alias(exp.Coalesce(this=_name(n, failing), expressions=[_name(n, installs)]), n) for n in key_names
    ]
    k = exp.Coalesce(this=_name("FailingDeviceDays", failing), expressions=[exp.Literal.number(0)])
    installed = exp.Coalesce(this=_name("InstalledDeviceDays", installs), expressions=[exp.Literal.number(0)])
    outputs.append(_alias(k, "FailingDeviceDays"))
    outputs.append(_alias(installed, "InstalledDeviceDays"))
    for aggregate in template.aggregates:
        outputs.append(_alias(_aggregate_value(aggregate, failing), aggregate.name))
    denominator = exp.Case(
        ifs=[
            exp.If(
                this=exp.GT(this=installed.copy(), expression=exp.Literal.number(0)),
                true=exp.Greatest(this=installed.copy(), expressions=[k.copy()], ignore_nulls=True),
            )
        ]
    )
    outputs.append(_alias(_double(denominator), _N))
    outputs.append(_alias(_double(k.copy()), _K))
    left = exp.Table(this=_identifier("failing"), alias=exp.TableAlias(this=_identifier(failing)))
    right = exp.Table(this=_identifier("installs"), alias=exp.TableAlias(this=_identifier(installs)))
    if key_names:
        on = _all_of([exp.EQ(this=_name(n, failing), expression=_name(n, installs)) for n in key_names])
        join = exp.Join(this=right, side="FULL", kind="OUTER", on=on)
    else:
        join = exp.Join(this=right, kind="CROSS")
    return exp.Select(expressions=outputs, from_=exp.From(this=left), joins=[join])


def _aggregate_value(aggregate: AggregateExpr, table: str) -> exp.Expr:
    """An ordinary aggregate beside the rate; a group with no failure counts 0 (COUNT, DCOUNT)."""
    node: exp.Expr = _name(aggregate.name, table)
    if aggregate.func.value in ("COUNT", "DCOUNT"):
        node = exp.Coalesce(this=node, expressions=[exp.Literal.number(0)])
    return node


def _measured(template: Template, key_names: list[str]) -> exp.Select:
    """FailureRate and its 95% Wilson score interval, clamped to [0, 1] against rounding (a null
    denominator gives null everywhere: GREATEST and LEAST would skip the null)."""
    n, k = _name(_N), _name(_K)
    p = exp.Div(this=k, expression=n.copy(), typed=False, safe=False)
    carried = [*key_names, "FailingDeviceDays", "InstalledDeviceDays", *(a.name for a in template.aggregates)]
    low, high = wilson(p.copy(), n.copy())
    inner = exp.Select(
        expressions=[
            *(_alias(_name(c), c) for c in carried),
            _alias(p, "FailureRate"),
            _alias(low, "_low"),
            _alias(high, "_high"),
            _alias(_name(_K), _K),
            _alias(_name(_N), _N),
        ],
        from_=exp.From(this=_table("counted")),
    )
    # No failure: the low bound is 0 exactly (rounding leaves ~1e-18); every device failed: high is 1.
    no_failure = exp.EQ(this=_name(_K), expression=_float(0.0))
    all_failed = exp.EQ(this=_name(_K), expression=_name(_N))
    no_rate = exp.If(this=exp.Is(this=_name(_N), expression=exp.Null()), true=exp.Null())
    clamped_low = exp.Case(
        ifs=[
            no_rate,
            exp.If(
                this=exp.Or(this=exp.LT(this=_name("_low"), expression=_float(0.0)), expression=no_failure),
                true=_float(0.0),
            ),
        ],
        default=_name("_low"),
    )
    clamped_high = exp.Case(
        ifs=[
            no_rate.copy(),
            exp.If(
                this=exp.Or(this=exp.GT(this=_name("_high"), expression=_float(1.0)), expression=all_failed),
                true=_float(1.0),
            ),
        ],
        default=_name("_high"),
    )
    outputs: list[exp.Expr] = [_alias(_name(c), c) for c in [*carried, "FailureRate"]]
    outputs += [_alias(clamped_low, "FailureRateLow"), _alias(clamped_high, "FailureRateHigh")]
    sub = exp.Subquery(this=inner, alias=exp.TableAlias(this=_identifier("wilson")))
    return exp.Select(expressions=outputs, from_=exp.From(this=sub))


def wilson(p: exp.Expr, n: exp.Expr) -> tuple[exp.Expr, exp.Expr]:
    """Wilson bounds of rate ``p`` over ``n`` trials, in exactly this order of operations:

    ``center = p + z²/(2n)``, ``margin = z * sqrt(p(1-p)/n + z²/(4n·n))``, ``denom = 1 + z²/n``,
    ``low = (center - margin)/denom``, ``high = (center + margin)/denom`` (clamped by the caller).
    """
    z, z2 = _float(Z_95), _float(Z2)

    def div(a: exp.Expr, b: exp.Expr) -> exp.Expr:
        return exp.Div(this=_paren(a), expression=_paren(b), typed=False, safe=False)

    def mul(a: exp.Expr, b: exp.Expr) -> exp.Expr:
        return exp.Mul(this=_paren(a), expression=_paren(b))

    center = exp.Add(this=p.copy(), expression=div(z2.copy(), mul(_float(2.0), n.copy())))
    spread = exp.Add(
        this=div(mul(p.copy(), exp.Sub(this=_float(1.0), expression=p.copy())), n.copy()),
        expression=div(z2.copy(), mul(mul(_float(4.0), n.copy()), n.copy())),
    )
    margin = mul(z, exp.Sqrt(this=spread))
    denom = exp.Add(this=_float(1.0), expression=div(z2.copy(), n.copy()))
    low = div(exp.Sub(this=center, expression=_paren(margin)), denom.copy())
    high = div(exp.Add(this=center.copy(), expression=_paren(margin.copy())), denom.copy())
    return low, high


def version_parts(version: exp.Expr) -> list[exp.Expr]:
    """The first four dotted numeric parts of a version as integers (null where a part is missing or
    not a number of 1-18 digits): ``1.2.10`` -> 1, 2, 10, null."""
    parts: list[exp.Expr] = []
    for i in range(VERSION_PARTS):
        pattern = "^" + "[0-9]+[.]" * i + "([0-9]{1,18})([^0-9]|$)"
        digits = exp.RegexpExtract(
            this=version.copy(), expression=exp.Literal.string(pattern), group=exp.Literal.number(1)
        )
        empty = exp.Nullif(this=digits, expression=exp.Literal.string(""))
        parts.append(exp.Cast(this=empty, to=_data_type("BIGINT")))
    return parts


_PREVIOUS = (
    ("PreviousVersion", VERSION_COLUMN),
    ("PreviousFailingDeviceDays", "FailingDeviceDays"),
    ("PreviousInstalledDeviceDays", "InstalledDeviceDays"),
    ("PreviousFailureRate", "FailureRate"),
    ("PreviousFailureRateLow", "FailureRateLow"),
    ("PreviousFailureRateHigh", "FailureRateHigh"),
)


def _compared(template: Template, key_names: list[str]) -> exp.Select:
    """Each row beside the row of the version it replaces: the same other group keys, the version just
    before it in version order (numeric parts, then the text); a null version has none."""
    version = _name(VERSION_COLUMN)
    partition: list[exp.Expr] = [_name(n) for n in key_names if n != VERSION_COLUMN]
    partition.append(exp.Is(this=version.copy(), expression=exp.Null()))
    order = [exp.Ordered(this=part, desc=False, nulls_first=True) for part in version_parts(version)]
    order.append(exp.Ordered(this=version.copy(), desc=False, nulls_first=True))
    carried = _measured_names(template, key_names)
    outputs: list[exp.Expr] = [_alias(_name(c), c) for c in carried]
    for alias, source in _PREVIOUS:
        window = exp.Window(
            this=exp.Lag(this=_name(source)),
            partition_by=[p.copy() for p in partition],
            order=exp.Order(expressions=[o.copy() for o in order]),
        )
        outputs.append(_alias(window, alias))
    inner = exp.Select(expressions=outputs, from_=exp.From(this=_table("measured")))
    ratio = exp.Div(
        this=_name("FailureRate"),
        expression=exp.Nullif(this=_name("PreviousFailureRate"), expression=_float(0.0)),
        typed=False,
        safe=False,
    )
    regressed = exp.Coalesce(
        this=exp.GT(this=_name("FailureRateLow"), expression=_name("PreviousFailureRateHigh")),
        expressions=[exp.Boolean(this=False)],
    )
    outer: list[exp.Expr] = [_alias(_name(c), c) for c in carried]
    outer += [_alias(_name(alias), alias) for alias, _ in _PREVIOUS]
    outer += [_alias(ratio, "RateRatio"), _alias(regressed, "Regressed")]
    sub = exp.Subquery(this=inner, alias=exp.TableAlias(this=_identifier("lagged")))
    return exp.Select(expressions=outer, from_=exp.From(this=sub))


def _measured_names(template: Template, key_names: list[str]) -> list[str]:
    rate_own = [
        "FailingDeviceDays",
        "InstalledDeviceDays",
        "FailureRate",
        "FailureRateLow",
        "FailureRateHigh",
    ]
    return [*key_names, *rate_own, *(a.name for a in template.aggregates)]


def _order(template: Template, key_names: list[str]) -> list[exp.Ordered]:
    """The template's order by output name, then the group keys: a total order of the rows."""
    ordered: list[exp.Ordered] = []
    seen: set[str] = set()
    for o in template.orderby:
        if isinstance(o.attribute, Column) and o.attribute.physical is None:
            continue
        ordered.append(
            exp.Ordered(this=_name(o.attribute.name), desc=o.sort.value == "desc", nulls_first=False)
        )
        seen.add(o.attribute.name)
    for name in key_names:
        if name not in seen:
            ordered.append(exp.Ordered(this=_name(name), desc=False, nulls_first=False))
    return ordered


def _output_condition(condition: Condition) -> exp.Expr:
    """``aggregation.condition`` over the output columns, each attribute by its output name."""
    parts: list[exp.Expr] = []
    if condition.all_of:
        parts.append(_all_of([_output_item(i) for i in condition.all_of]))
    if condition.any_of:
        parts.append(_any_of([_output_item(i) for i in condition.any_of]))
    return _all_of(parts)


def _output_item(item: Predicate | Condition) -> exp.Expr:
    if isinstance(item, Condition):
        return _output_condition(item)
    target = _name(item.attribute.name)
    values = item.value if isinstance(item.value, tuple) else (item.value,)
    literals = [exp.Boolean(this=v) if isinstance(v, bool) else _literal(v) for v in values]
    if item.operator is Operator.IN:
        return exp.In(this=target, expressions=literals)
    return _COMPARISONS[item.operator](this=target, expression=literals[0])


def _bigint(node: exp.Expr) -> exp.Expr:
    return exp.Cast(this=node, to=_data_type("BIGINT"))


def _double(node: exp.Expr) -> exp.Expr:
    return exp.Cast(this=node, to=_data_type("DOUBLE"))


def _float(value: float) -> exp.Expr:
    # From text: a decimal literal would be a DECIMAL in DuckDB and Spark, not this exact double.
    return exp.Cast(this=exp.Literal.string(repr(value)), to=_data_type("DOUBLE"))


def _paren(node: exp.Expr) -> exp.Expr:
    return node if isinstance(node, exp.Column | exp.Cast | exp.Paren | exp.Func) else exp.Paren(this=node)


def _name(name: str, table: str | None = None) -> exp.Column:
    if table is None:
        return exp.Column(this=_identifier(name))
    return exp.Column(this=_identifier(name), table=_identifier(table))


def _table(name: str) -> exp.Table:
    return exp.Table(this=_identifier(name))
