"""The physical schema of the event table, derived from the column catalogue.

The Delta table holds every event twice, in one commit: once under ``ClusteredBy=IhvPartner`` (read as
``failure_events`` by IHVDriver reports) and once under ``ClusteredBy=OemPartner`` (read as
``failure_events_by_oem`` by OEMDriver reports), each partitioned by ``FailureDate`` and sorted by its owner
partner within a day, so both views' per-partner scans skip most of a day (see ``events.lake``).

Identifiers typed UUID in the catalogue are stored as 16-byte binary: Spark refuses UUID-typed Parquet
columns, and a distinct count over 16 bytes costs far less than over 36 characters of text (measured on
3M rows: 539 ms as BLOB against 590 ms as text and 425 ms as DuckDB's own UUID type).
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from driverlens.catalog import COLUMNS, OWNER_COLUMNS, STORED_COLUMNS, ColumnType, View
from driverlens.events.sql import quoted_column

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
# The OEM copy stores EventId as NULL: dedupe reads the IHV copy, and a random 36-character id is the
# most expensive column to write (about a third of the copy's cost).
OEM_COLUMN_NAMES: tuple[str, ...] = tuple(name for name in COLUMN_NAMES if name != "EventId")
# Partition columns of the Delta table: which copy, then the failure date.
COPY_COLUMN = "ClusteredBy"
DATE_COLUMN = "FailureDate"
PARTITION_COLUMNS: tuple[str, ...] = (COPY_COLUMN, DATE_COLUMN)
# The copy each table name reads, by its ``ClusteredBy`` partition value.
COPY_OF_TABLE: Mapping[str, str] = {TABLE: CLUSTER_KEY[0], OEM_TABLE: OEM_CLUSTER_KEY[0]}
# Columns written into the data files (partition values live in the file paths and the Delta log).
FILE_COLUMN_NAMES: tuple[str, ...] = tuple(name for name in COLUMN_NAMES if name != DATE_COLUMN)
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
# How the Delta table stores each logical type (UUIDs as 16 bytes, see the module docstring).
_LAKE_ARROW_TYPES: dict[ColumnType, pa.DataType] = {**_ARROW_TYPES, ColumnType.UUID: pa.binary()}
_STORED_DUCKDB_TYPES: dict[ColumnType, str] = {
    **{ctype: ctype.duckdb_type for ctype in ColumnType},
    ColumnType.UUID: "BLOB",
}


def duckdb_type(column: str) -> str:
    """DuckDB type of one stored column as the table stores it (UUIDs as BLOB)."""
    return _STORED_DUCKDB_TYPES[COLUMN_TYPES[column]]


def lake_schema() -> pa.Schema:
    """Arrow schema of the Delta table: the stored columns, then the partition columns."""
    fields = [
        pa.field(name, _LAKE_ARROW_TYPES[ctype], nullable=name not in REQUIRED_COLUMNS or name == "EventId")
        for name, ctype in STORED_COLUMNS
        if name != DATE_COLUMN
    ]
    return pa.schema(
        [*fields, pa.field(COPY_COLUMN, pa.string(), False), pa.field(DATE_COLUMN, pa.date32(), False)]
    )


def arrow_schema() -> pa.Schema:
    """Arrow schema of one stored event (UUID columns use Arrow's canonical uuid extension type)."""
    return pa.schema(
        [
            pa.field(name, _ARROW_TYPES[ctype], nullable=name not in REQUIRED_COLUMNS)
            for name, ctype in STORED_COLUMNS
        ]
    )


def create_table_sql(table: str, columns: tuple[str, ...] = COLUMN_NAMES) -> str:
    """DDL of a DuckDB staging table of stored events. Identifiers come from the catalogue only."""
    cols = ",\n  ".join(f'"{name}" {duckdb_type(name)}' for name in columns)
    return f"CREATE TABLE {table} (\n  {cols}\n)"


def quoted(column: str) -> str:
    """A catalogue column as a quoted identifier (refuses anything not in the catalogue)."""
    return quoted_column(column, COLUMN_TYPES, "a stored column")


def stored_value_sql(column: str, expr: str) -> str:
    """``expr`` (of the catalogue type) as the table stores it: UUIDs become their 16 bytes."""
    if COLUMN_TYPES[column] is ColumnType.UUID:
        return f"unhex(replace(CAST({expr} AS VARCHAR), '-', ''))"
    return expr
