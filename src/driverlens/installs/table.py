"""The install base table: its columns, key and Delta layout, and how engines read a snapshot of it.

One row per (InstallDate, IhvPartner, OemPartner, DriverName, DriverVersion, OSVersion): how many devices
ran that driver version on that OS build on machines of that maker that day. Both partner columns are
stored so the compiler scopes it like the events (``IhvPartner`` for IHVDriver, ``OemPartner`` for
OEMDriver). Partitioned by ``InstallDate``; each write rewrites the day files it touches, so a day is one
file and the table needs no compaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from driverlens.catalog import ColumnType
from driverlens.events.lake import Layout, Snapshot
from driverlens.events.sql import quoted_column, string_literal

VIEW = "install_base"  # the name compiled SQL reads, in DuckDB and in Spark
DATE_COLUMN = "InstallDate"
COUNT_COLUMN = "DeviceCount"
DIRNAME = "installs"
LAKE_DIRNAME = "lake"


@dataclass(frozen=True)
class InstallColumn:
    name: str
    type: ColumnType
    description: str


COLUMNS: tuple[InstallColumn, ...] = (
    InstallColumn("InstallDate", ColumnType.DATE, "UTC day the devices ran the driver version"),
    InstallColumn("IhvPartner", ColumnType.STRING, "Partner that owns the driver (IHVDriver scope)"),
    InstallColumn("OemPartner", ColumnType.STRING, "Partner that made the machines (OEMDriver scope)"),
    InstallColumn("DriverName", ColumnType.STRING, "Driver file name, as in the events"),
    InstallColumn("DriverVersion", ColumnType.STRING, "Driver version, as in the events"),
    InstallColumn("OSVersion", ColumnType.STRING, "OS build, as in the events (e.g. 10.0.22631.4317)"),
    InstallColumn(COUNT_COLUMN, ColumnType.INTEGER, "Devices running this driver version that day (>= 0)"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COLUMN_TYPES: dict[str, ColumnType] = {c.name: c.type for c in COLUMNS}
KEY: tuple[str, ...] = tuple(c for c in COLUMN_NAMES if c != COUNT_COLUMN)
# Every column is required: a row without its key or its count says nothing.
REQUIRED_COLUMNS: frozenset[str] = frozenset(COLUMN_NAMES)
# Columns written into the data files (the day lives in the file path and the Delta log).
FILE_COLUMN_NAMES: tuple[str, ...] = tuple(c for c in COLUMN_NAMES if c != DATE_COLUMN)

_ARROW = {ColumnType.STRING: pa.string(), ColumnType.INTEGER: pa.int64(), ColumnType.DATE: pa.date32()}
_SPARK = {ColumnType.STRING: "STRING", ColumnType.INTEGER: "BIGINT", ColumnType.DATE: "DATE"}


def lake_schema() -> pa.Schema:
    """Arrow schema of the Delta table: the file columns, then the partition column."""
    fields = [pa.field(c, _ARROW[COLUMN_TYPES[c]], False) for c in FILE_COLUMN_NAMES]
    return pa.schema([*fields, pa.field(DATE_COLUMN, pa.date32(), False)])


LAYOUT = Layout(lake_schema(), DATE_COLUMN)


def lake_root(data_dir: Path) -> Path:
    """``<data dir>/installs/lake``."""
    return Path(data_dir) / DIRNAME / LAKE_DIRNAME


def quoted(column: str) -> str:
    """A column of the table as a quoted identifier (refuses anything else)."""
    return quoted_column(column, COLUMN_TYPES, "an install base column")


def duckdb_source_sql(snapshot: Snapshot | None) -> str:
    """A SELECT of the table's columns over ``snapshot``'s files (typed and empty when there are none)."""
    paths = [f.path for f in snapshot.files] if snapshot is not None else []
    if not paths:
        cols = ", ".join(f"CAST(NULL AS {COLUMN_TYPES[c].duckdb_type}) AS {quoted(c)}" for c in COLUMN_NAMES)
        return f"SELECT {cols} WHERE false"
    files = ", ".join(string_literal(p) for p in paths)
    cols = ", ".join(quoted(c) for c in COLUMN_NAMES)
    return (
        f"SELECT {cols} FROM read_parquet([{files}], hive_partitioning = true, "
        f"hive_types = {{'{DATE_COLUMN}': DATE}})"
    )


SPARK_SCHEMA = ", ".join(f"`{c}` {_SPARK[COLUMN_TYPES[c]]}" for c in COLUMN_NAMES)
