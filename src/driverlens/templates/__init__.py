"""Report templates: the lenient parser, validation with paths, and the canonical model."""

from driverlens.templates.model import (
    AggregateExpr,
    Attribute,
    Condition,
    OrderBy,
    Predicate,
    Scalar,
    SortOrder,
    Template,
    Value,
)
from driverlens.templates.parser import (
    MAX_DEPTH,
    MAX_IN_VALUES,
    MAX_ITEMS,
    MAX_PROJECTION,
    parse_template,
)
from driverlens.templates.values import MAX_VALUE_LENGTH

__all__ = [
    "MAX_DEPTH",
    "MAX_IN_VALUES",
    "MAX_ITEMS",
    "MAX_PROJECTION",
    "MAX_VALUE_LENGTH",
    "AggregateExpr",
    "Attribute",
    "Condition",
    "OrderBy",
    "Predicate",
    "Scalar",
    "SortOrder",
    "Template",
    "Value",
    "parse_template",
]
