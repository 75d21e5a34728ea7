from __future__ import annotations

import pyarrow as pa

from driverlens.catalog import STORED_COLUMNS, ColumnType
from driverlens.events import EventStore
from driverlens.events.schema import ALLOWED_VALUES, COLUMN_NAMES, REQUIRED_COLUMNS, arrow_schema


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


def test_table_matches_catalogue_types(store: EventStore) -> None:
    with store.connect() as con:
        described = {r[0]: r[1] for r in con.execute("DESCRIBE failure_events").fetchall()}
    assert list(described) == list(COLUMN_NAMES)
    for name, ctype in STORED_COLUMNS:
        assert described[name] == ctype.duckdb_type, name
    assert described["DeviceId"] == ColumnType.UUID.duckdb_type == "UUID"
    assert store.count() == 0
