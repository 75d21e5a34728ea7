"""Fixtures: the tiny event table in a real in-memory DuckDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from driverlens.catalog import STORED_COLUMNS
from driverlens.events.schema import duckdb_type
from tests.compiler.events import ROWS


def stored(value: Any) -> Any:
    """A value as the event table stores it (UUIDs as their 16 bytes)."""
    return value.bytes if isinstance(value, uuid.UUID) else value


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(":memory:")
    columns = ", ".join(f'"{name}" {duckdb_type(name)}' for name, _ in STORED_COLUMNS)
    connection.execute(f"CREATE TABLE failure_events ({columns})")
    # The store keeps OEM-view rows in a second, OEM-clustered copy; here a view stands in for it.
    connection.execute("CREATE VIEW failure_events_by_oem AS SELECT * FROM failure_events")
    names = [name for name, _ in STORED_COLUMNS]
    placeholders = ", ".join("?" for _ in names)
    connection.executemany(
        f"INSERT INTO failure_events VALUES ({placeholders})",
        [[stored(row[n]) for n in names] for row in ROWS],
    )
    yield connection
    connection.close()
