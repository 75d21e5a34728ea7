"""The physical schema of ``failure_events``, derived from the column catalogue."""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from driverlens.catalog import COLUMNS, OWNER_COLUMNS, STORED_COLUMNS, ColumnType, View

TABLE = "failure_events"
# The same events clustered for the OEM view (the compiler reads it for OEMDriver templates).
OEM_TABLE = "failure_events_by_oem"
TABLE_BY_VIEW: Mapping[View, str] = {View.IHV_DRIVER: TABLE, View.OEM_DRIVER: OEM_TABLE}

# Stored events are clustered by owning partner then failure date, once per view (see store.py).
CLUSTER_KEY: tuple[str, ...] = (OWNER_COLUMNS[View.IHV_DRIVER], "FailureDate", OWNER_COLUMNS[View.OEM_DRIVER])
OEM_CLUSTER_KEY: tuple[str, ...] = (
    OWNER_COLUMNS[View.OEM_DRIVER],
    "FailureDate",
    OWNER_COLUMNS[View.IHV_DRIVER],
)

COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in STORED_COLUMNS)
# The OEM copy leaves out EventId: dedupe reads the main table, and a random 36-character id is the
# most expensive column to write (about a third of the copy's cost).
OEM_COLUMN_NAMES: tuple[str, ...] = tuple(name for name in COLUMN_NAMES if name != "EventId")
COLUMN_TYPES: dict[str, ColumnType] = dict(STORED_COLUMNS)

# Columns every ingested row must fill; the rest may be empty (telemetry is often partial).
REQUIRED_COLUMNS: frozenset[str] = frozenset(
    {
        "EventId",
        *OWNER_COLUMNS.values(),
        "FailureDate",
        "FailureDateTime",
        "FailureName",
        "FailureHash",
        "DriverName",
        "DeviceId",
        "EventCount",
    }
)

# Closed vocabularies, from the catalogue (case-sensitive canonical spellings).
ALLOWED_VALUES: Mapping[str, tuple[str, ...]] = {
    c.physical: c.allowed_values for c in COLUMNS if c.allowed_values and c.physical is not None
}

_ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.STRING: pa.string(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("us"),
    ColumnType.UUID: pa.uuid(),
}


def duckdb_type(column: str) -> str:
    """Physical DuckDB type of one stored column."""
    return COLUMN_TYPES[column].duckdb_type


def arrow_schema() -> pa.Schema:
    """Arrow schema of one stored event (UUID columns use Arrow's canonical uuid extension type)."""
    return pa.schema(
        [
            pa.field(name, _ARROW_TYPES[ctype], nullable=name not in REQUIRED_COLUMNS)
            for name, ctype in STORED_COLUMNS
        ]
    )


def create_table_sql(table: str = TABLE, columns: tuple[str, ...] = COLUMN_NAMES) -> str:
    """DDL of an event table (the main one by default). Identifiers come from the catalogue only."""
    cols = ",\n  ".join(
        f'"{name}" {COLUMN_TYPES[name].duckdb_type}{" NOT NULL" if name in REQUIRED_COLUMNS else ""}'
        for name in columns
    )
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {cols}\n)"


def quoted(column: str) -> str:
    """A catalogue column as a quoted identifier (refuses anything not in the catalogue)."""
    if column not in COLUMN_TYPES:
        raise KeyError(f"not a stored column: {column}")
    return f'"{column}"'
