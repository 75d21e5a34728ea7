"""The column catalogue: views, columns, types, operators, aggregates and report periods.

This is the single source of truth; the template validator, the compiler, the event store and the
dataset endpoint all read it.
"""

from driverlens.catalog.model import (
    AGGREGATE_FUNCTIONS,
    COLUMNS,
    OPERATORS,
    OWNER_COLUMNS,
    REPORT_PERIODS,
    STORED_COLUMNS,
    Aggregate,
    Column,
    ColumnType,
    Operator,
    PartnerKind,
    ReportPeriod,
    View,
    column_for,
    columns_of,
)

__all__ = [
    "AGGREGATE_FUNCTIONS",
    "COLUMNS",
    "OPERATORS",
    "OWNER_COLUMNS",
    "REPORT_PERIODS",
    "STORED_COLUMNS",
    "Aggregate",
    "Column",
    "ColumnType",
    "Operator",
    "PartnerKind",
    "ReportPeriod",
    "View",
    "column_for",
    "columns_of",
]
