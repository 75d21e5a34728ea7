"""Parse and validate a report template (contract sections 2 and 3), collecting every problem."""

from __future__ import annotations

from typing import Any

from driverlens import lenient
from driverlens.catalog import (
    Aggregate,
    Column,
    ColumnType,
    Operator,
    ReportPeriod,
    View,
)
from driverlens.catalog.rates import RateKind
from driverlens.errors import Problem, ValidationFailed
from driverlens.lenient import join_path
from driverlens.templates.attributes import (
    Resolver,
    echo,
    echo_text,
    kind_of,
    lookup_column,
    output_resolver,
    parse_aggregate,
    where_resolver,
)
from driverlens.templates.delta import parse_delta
from driverlens.templates.model import (
    AggregateExpr,
    Attribute,
    Condition,
    OrderBy,
    Predicate,
    RateColumn,
    RateSpec,
    Scalar,
    SortOrder,
    Template,
    Value,
)
from driverlens.templates.rates import (
    check_rate_expression,
    check_rate_template,
    coerce_boolean,
    is_rate_expression,
    parse_compare,
    value_kind,
    with_rate_columns,
)
from driverlens.templates.values import coerce_scalar, split_in_list

MAX_DEPTH = 10
MAX_PROJECTION = 64
MAX_AGGREGATES = 32
MAX_ORDERBY = 16
MAX_ITEMS = 100  # per and/or list
MAX_IN_VALUES = 1000
MAX_PREDICATES = 500

TOP_KEYS = ("view", "projection", "dateRange", "condition", "aggregation", "orderby", "limit", "delta")
DATE_RANGE_KEYS = ("reportPeriod",)
AGGREGATION_KEYS = ("aggregatedColumns", "condition", "compareVersions")
CONDITION_KEYS = ("and", "or")
ITEM_KEYS = ("attribute", "operator", "value", "condition")
ORDERBY_KEYS = ("attribute", "sort")


def parse_template(body: Any) -> Template:
    """Parse a decoded JSON body (or its text) into a validated ``Template``; raise with every problem."""
    if isinstance(body, str | bytes | bytearray):
        body = lenient.loads(bytes(body) if isinstance(body, bytearray) else body)
    parser = _Parser()
    template = parser.template(body)
    if parser.problems or template is None:
        raise ValidationFailed(parser.problems or [Problem("", "the template is invalid")])
    return template


class _Parser:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.view: View | None = None
        self.predicates = 0

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    def obj(self, raw: Any, keys: tuple[str, ...], path: str, what: str) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            self.add(Problem(path, f"{what} must be a JSON object, got {kind_of(raw)}", value=echo(raw)))
            return None
        result, problems = lenient.canonical_keys(raw, keys, path)
        self.extend(problems)
        return result

    def template(self, body: Any) -> Template | None:
        top = self.obj(body, TOP_KEYS, "", "the template")
        if top is None:
            return None
        for required in ("view", "projection", "dateRange"):
            if required not in top:
                self.add(Problem(required, f"'{required}' is required"))
        view = self.view_of(top.get("view")) if "view" in top else None
        self.view = view
        projection = self.projection(top.get("projection")) if "projection" in top else ()
        period = self.date_range(top["dateRange"]) if "dateRange" in top else None
        condition = self.condition(top.get("condition"), "condition", where_resolver(view), 1)
        aggregates, having, rate, compare_given = self.aggregation(top.get("aggregation"), projection)
        if "projection" in top and top["projection"] in (None, []) and not aggregates and rate is None:
            self.add(Problem("projection", "name at least one column (or give aggregatedColumns)"))
        resolver = with_rate_columns(output_resolver(view, projection, aggregates), rate)
        orderby = self.orderby(top.get("orderby"), resolver)
        limit = self.limit(top.get("limit"))
        delta = None
        if top.get("delta") is not None:
            delta, problems = parse_delta(top["delta"], view, projection, aggregates)
            self.extend(problems)
        self.extend(check_rate_template(rate, compare_given, projection, top.get("delta") is not None))
        if view is None or period is None or self.problems:
            return None
        return Template(view, projection, period, condition, aggregates, having, orderby, limit, delta, rate)

    def view_of(self, raw: Any) -> View | None:
        view, problems = lenient.enum_value(raw, View, "view")
        self.extend(problems)
        return view

    def date_range(self, raw: Any) -> ReportPeriod | None:
        date_range = self.obj(raw, DATE_RANGE_KEYS, "dateRange", "dateRange")
        if date_range is None:
            return None
        if "reportPeriod" not in date_range:
            self.add(Problem("dateRange.reportPeriod", "'reportPeriod' is required"))
            return None
        period, problems = lenient.enum_value(
            date_range["reportPeriod"], ReportPeriod, "dateRange.reportPeriod"
        )
        self.extend(problems)
        return period

    def projection(self, raw: Any) -> tuple[Column, ...]:
        items = self.list_of(raw, "projection", MAX_PROJECTION)
        columns: list[Column] = []
        listed: set[Column] = set()  # a set: a list would compare every column with all before it
        for i, item in enumerate(items):
            column, problems = lookup_column(self.view, item, join_path("projection", i))
            self.extend(problems)
            if column is None:
                continue
            if column in listed:
                self.add(
                    Problem(join_path("projection", i), f"column '{column.name}' is listed twice", echo(item))
                )
                continue
            columns.append(column)
            listed.add(column)
        return tuple(columns)

    def aggregation(
        self, raw: Any, projection: tuple[Column, ...]
    ) -> tuple[tuple[AggregateExpr, ...], Condition | None, RateSpec | None, bool]:
        """The aggregates, the condition after aggregation, the failure rate and whether
        compareVersions was given."""
        if raw is None:
            return (), None, None, False
        aggregation = self.obj(raw, AGGREGATION_KEYS, "aggregation", "aggregation")
        if aggregation is None:
            return (), None, None, False
        path = "aggregation.aggregatedColumns"
        aggregates: list[AggregateExpr] = []
        rate_position: int | None = None
        compare, problems = parse_compare(aggregation.get("compareVersions"))
        self.extend(problems)
        for i, item in enumerate(self.list_of(aggregation.get("aggregatedColumns"), path, MAX_AGGREGATES)):
            if is_rate_expression(item):
                problems = check_rate_expression(item, join_path(path, i))
                if not problems and rate_position is not None:
                    problems = [Problem(join_path(path, i), f"'{item.strip()}' is listed twice", echo(item))]
                self.extend(problems)
                if not problems:
                    rate_position = len(aggregates)
                continue
            expr, problems = parse_aggregate(self.view, item, join_path(path, i))
            self.extend(problems)
            if expr is None:
                continue
            if expr in aggregates:
                self.add(Problem(join_path(path, i), f"'{expr.name}' is listed twice", echo(item)))
                continue
            aggregates.append(expr)
        rate = None if rate_position is None else RateSpec(rate_position, compare)
        resolver = with_rate_columns(output_resolver(self.view, projection, tuple(aggregates)), rate)
        having = self.condition(aggregation.get("condition"), "aggregation.condition", resolver, 1)
        if having is not None and not aggregates and not aggregation.get("aggregatedColumns"):
            self.add(
                Problem("aggregation.condition", "a condition after aggregation needs aggregatedColumns")
            )
        return tuple(aggregates), having, rate, aggregation.get("compareVersions") is not None

    def condition(self, raw: Any, path: str, resolve: Resolver, depth: int) -> Condition | None:
        if raw is None:
            return None
        if depth > MAX_DEPTH:
            self.add(Problem(path, f"conditions may be nested at most {MAX_DEPTH} levels deep"))
            return None
        condition = self.obj(raw, CONDITION_KEYS, path, "a condition")
        if condition is None:
            return None
        parts: dict[str, tuple[Predicate | Condition, ...]] = {}
        for key in CONDITION_KEYS:
            list_path = join_path(path, key)
            items: list[Predicate | Condition] = []
            for i, item in enumerate(self.list_of(condition.get(key), list_path, MAX_ITEMS)):
                parsed = self.item(item, join_path(list_path, i), resolve, depth)
                if parsed is not None:
                    items.append(parsed)
            parts[key] = tuple(items)
        if not parts["and"] and not parts["or"]:
            return None
        return Condition(all_of=parts["and"], any_of=parts["or"])

    def item(self, raw: Any, path: str, resolve: Resolver, depth: int) -> Predicate | Condition | None:
        item = self.obj(raw, ITEM_KEYS, path, "a condition item")
        if item is None:
            return None
        operator: Operator | None = None
        if item.get("operator") is not None:
            operator, problems = lenient.enum_value(item["operator"], Operator, join_path(path, "operator"))
            self.extend(problems)
        if "condition" in item:
            extra = [k for k in ("attribute", "value") if k in item]
            if extra:
                self.add(
                    Problem(
                        path,
                        f"an item is either a predicate (attribute, operator, value) or a nested "
                        f"condition, not both; remove {', '.join(extra)} or condition",
                    )
                )
                return None
            if operator is not None and operator is not Operator.NONE:
                self.add(
                    Problem(
                        join_path(path, "operator"),
                        f"an item with a nested condition takes no operator (or NONE), got {operator.value}",
                        echo(item["operator"]),
                    )
                )
                return None
            return self.condition(item["condition"], join_path(path, "condition"), resolve, depth + 1)
        return self.predicate(item, path, resolve, operator)

    def predicate(
        self, item: dict[str, Any], path: str, resolve: Resolver, operator: Operator | None
    ) -> Predicate | None:
        ok = True
        for key in ("attribute", "operator", "value"):
            if key not in item or item[key] is None:
                self.add(Problem(join_path(path, key), f"'{key}' is required in a predicate"))
                ok = False
        if operator is Operator.NONE:
            self.add(
                Problem(
                    join_path(path, "operator"),
                    "NONE is allowed only on an item carrying just a nested condition; "
                    f"predicates use one of {', '.join(o.value for o in Operator if o is not Operator.NONE)}",
                    echo(item["operator"]),
                )
            )
            ok = False
        attribute: Attribute | None = None
        if item.get("attribute") is not None:
            attribute, problems = resolve(item["attribute"], join_path(path, "attribute"))
            self.extend(problems)
        self.predicates += 1
        if self.predicates == MAX_PREDICATES + 1:
            self.add(Problem(path, f"a template may hold at most {MAX_PREDICATES} predicates"))
        if not ok or attribute is None or operator is None:
            return None
        value = self.value(item["value"], join_path(path, "value"), attribute, operator)
        if value is None:
            return None
        return Predicate(attribute, operator, value)

    def value(self, raw: Any, path: str, attribute: Attribute, operator: Operator) -> Value | None:
        if isinstance(attribute, RateColumn) and attribute.kind == RateKind.BOOLEAN:
            if operator not in (Operator.EQ, Operator.NEQ):
                self.add(Problem(path, f"{attribute.name} is true or false: compare it with EQ or NEQ"))
                return None
            flag, problems = coerce_boolean(raw, path)
            self.extend(problems)
            return flag
        if isinstance(attribute, RateColumn):
            kind: ColumnType | None = value_kind(attribute)
            allowed: tuple[str, ...] = ()
        elif isinstance(attribute, AggregateExpr):
            kind = attribute.value_type
            allowed = ()
            if attribute.func in (Aggregate.MAX, Aggregate.MIN):
                allowed = attribute.column.allowed_values
        else:
            kind = attribute.type
            allowed = attribute.allowed_values
        if operator is Operator.LIKE:
            if kind is not ColumnType.STRING:
                self.add(Problem(path, f"LIKE needs a text column; {attribute.name} is not text"))
                return None
            if not isinstance(raw, str):
                self.add(Problem(path, "LIKE needs a text pattern using % and _", echo(raw)))
                return None
            scalar, problems = coerce_scalar(raw, ColumnType.STRING, (), path)
            self.extend(problems)
            return scalar
        if operator is Operator.IN:
            return self.in_values(raw, path, kind, allowed)
        scalar, problems = coerce_scalar(raw, kind, allowed, path)
        self.extend(problems)
        return scalar

    def in_values(
        self, raw: Any, path: str, kind: ColumnType | None, allowed: tuple[str, ...]
    ) -> tuple[Scalar, ...] | None:
        if isinstance(raw, str):
            raw = split_in_list(raw)
        elif not isinstance(raw, list):
            raw = [raw]
        if not raw:
            self.add(Problem(path, "IN needs at least one value (a JSON list or a comma-separated string)"))
            return None
        if len(raw) > MAX_IN_VALUES:
            self.add(Problem(path, f"IN takes at most {MAX_IN_VALUES} values, got {len(raw)}"))
            return None
        values: list[Scalar] = []
        ok = True
        for i, element in enumerate(raw):
            scalar, problems = coerce_scalar(element, kind, allowed, join_path(path, i))
            self.extend(problems)
            if scalar is None:
                ok = False
            elif scalar not in values:
                values.append(scalar)
        return tuple(values) if ok else None

    def orderby(self, raw: Any, resolve: Resolver) -> tuple[OrderBy, ...]:
        result: list[OrderBy] = []
        for i, item in enumerate(self.list_of(raw, "orderby", MAX_ORDERBY)):
            path = join_path("orderby", i)
            entry = self.obj(item, ORDERBY_KEYS, path, "an orderby item")
            if entry is None:
                continue
            sort: SortOrder | None = SortOrder.ASC
            if entry.get("sort") is not None:
                sort, problems = lenient.enum_value(entry["sort"], SortOrder, join_path(path, "sort"))
                self.extend(problems)
            if entry.get("attribute") is None:
                self.add(Problem(join_path(path, "attribute"), "'attribute' is required in an orderby item"))
                continue
            attribute, problems = resolve(entry["attribute"], join_path(path, "attribute"))
            self.extend(problems)
            if attribute is not None and sort is not None:
                if any(o.attribute == attribute for o in result):
                    message = f"'{attribute.name}' is ordered by twice"
                    self.add(Problem(path, message, echo(entry["attribute"])))
                    continue
                result.append(OrderBy(attribute, sort))
        return tuple(result)

    def limit(self, raw: Any) -> int:
        if raw is None:
            return 0
        value, problems = coerce_scalar(raw, ColumnType.INTEGER, (), "limit")
        if problems or not isinstance(value, int):
            self.add(
                Problem("limit", f"{echo_text(raw)} is not allowed: limit is a whole number >= 0", echo(raw))
            )
            return 0
        if value < 0:
            self.add(Problem("limit", f"{value} is not allowed: limit is a whole number >= 0", echo(raw)))
            return 0
        return value

    def list_of(self, raw: Any, path: str, maximum: int) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add(Problem(path, f"expected a JSON list, got {kind_of(raw)}", value=echo(raw)))
            return []
        if len(raw) > maximum:
            self.add(Problem(path, f"at most {maximum} entries are allowed here, got {len(raw)}"))
            return []
        return raw
