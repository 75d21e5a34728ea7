from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from driverlens.catalog import STORED_COLUMNS, ColumnType
from driverlens.events import EventStore, seed_events
from driverlens.events.schema import (
    ALLOWED_VALUES,
    COLUMN_NAMES,
    REQUIRED_COLUMNS,
    arrow_schema,
    duckdb_type,
    lake_schema,
)


def test_stored_columns_come_from_the_catalogue() -> None:
    assert tuple(name for name, _ in STORED_COLUMNS) == COLUMN_NAMES
    assert "ReportId" not in COLUMN_NAMES
    assert "Model" not in COLUMN_NAMES and "OEMModel" in COLUMN_NAMES
    assert {"EventId", "IhvPartner", "OemPartner"} <= set(COLUMN_NAMES)
    assert set(COLUMN_NAMES) >= REQUIRED_COLUMNS
    assert ALLOWED_VALUES["EventType"] == ("Kernel", "System")


def test_arrow_schema_types() -> None:
    schema = arrow_schema()
    assert schema.names == list(COLUMN_NAMES)
    assert schema.field("DeviceId").type == pa.uuid()
    assert schema.field("FailureHash").type == pa.uuid()
    assert schema.field("FailureDate").type == pa.date32()
    assert schema.field("EventCount").type == pa.int64()
    assert not schema.field("EventId").nullable and schema.field("Symbol").nullable


def _described(store: EventStore, table: str) -> dict[str, str]:
    with store.reading() as con:
        return {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def test_table_matches_catalogue_types(store: EventStore) -> None:
    """Both tables have the catalogue's columns and types, UUIDs as their 16 bytes (Spark refuses
    UUID-typed Parquet columns), whether the store is empty or read from its data files."""
    for rows in (0, 500):
        if rows:
            seed_events(store, rows=rows, days=5, seed=1, now=datetime(2026, 3, 1, tzinfo=UTC))
        for table in ("failure_events", "failure_events_by_oem"):
            described = _described(store, table)
            assert list(described) == list(COLUMN_NAMES), (rows, table)
            for name, ctype in STORED_COLUMNS:
                expected = "BLOB" if ctype is ColumnType.UUID else ctype.duckdb_type
                assert described[name] == expected == duckdb_type(name), (rows, table, name)
        assert store.count() == rows
    assert _described(store, "failure_events")["DeviceId"] == "BLOB"


def test_the_delta_table_stores_uuids_as_binary_and_is_partitioned_by_copy_and_day() -> None:
    schema = lake_schema()
    assert schema.field("DeviceId").type == schema.field("FailureHash").type == pa.binary()
    assert schema.names[-2:] == ["ClusteredBy", "FailureDate"]
    assert schema.names[:-2] == [c for c in COLUMN_NAMES if c != "FailureDate"]
