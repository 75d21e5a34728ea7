"""Fixtures for the engine tests: a tiny hand-made event table and raw SQL queries."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import pytest

from driverlens.catalog import STORED_COLUMNS
from driverlens.events.reader import attached


@dataclass(frozen=True)
class RawQuery:
    """A hand-written DuckDB query that satisfies the engine's query port."""

    text: str

    def sql(self, dialect: str = "duckdb") -> str:
        assert dialect == "duckdb"
        return self.text


@dataclass(frozen=True)
class FileEventSource:
    """A DuckDB file holding ``failure_events``, read as the event store reads its file."""

    path: Path

    def reading(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return attached(self.path, busy_timeout_s=5, fallback=self.connect)

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path), read_only=True)


DEVICE_A = UUID("0b7e6f8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b")
DEVICE_B = UUID("f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f")
HASH_A = UUID("11111111-2222-4333-8444-555555555555")


def _event(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {name: None for name, _ in STORED_COLUMNS}
    base.update(
        EventId="e1",
        IhvPartner="Contoso Graphics",
        OemPartner="Fabrikam PCs",
        FailureDate=date(2026, 3, 1),
        FailureDateTime=datetime(2026, 3, 1, 12, 30, 5),
        FailureName="0x9F_cgfx!Foo",
        FailureHash=HASH_A,
        DriverName="cgfx.sys",
        DriverVersion="31.0.1",
        EventType="Kernel",
        DeviceId=DEVICE_A,
        EventCount=3,
    )
    base.update(overrides)
    return base


TINY_EVENTS: tuple[dict[str, Any], ...] = (
    _event(),
    _event(EventId="e2", DeviceId=DEVICE_B, FailureName='quote " comma , tab \t name', EventCount=5),
    _event(EventId="e3", FailureDate=date(2026, 3, 2), FailureDateTime=datetime(2026, 3, 2, 0, 0, 1)),
    _event(EventId="e4", IhvPartner="Other IHV", DriverName="other.sys", EventCount=7),
)


@pytest.fixture
def make_event_source(tmp_path: Path) -> Callable[[list[dict[str, Any]]], FileEventSource]:
    """Builder: a DuckDB file with ``failure_events`` (STORED_COLUMNS) holding the given rows."""
    counter = iter(range(1_000_000))

    def build(rows: list[dict[str, Any]]) -> FileEventSource:
        path = tmp_path / f"events-{next(counter)}.duckdb"
        columns = ", ".join(f'"{name}" {ctype.duckdb_type}' for name, ctype in STORED_COLUMNS)
        names = [name for name, _ in STORED_COLUMNS]
        with duckdb.connect(str(path)) as conn:
            conn.execute(f"CREATE TABLE failure_events ({columns})")
            # The event store's OEM-clustered copy, which OEMDriver queries read.
            conn.execute("CREATE VIEW failure_events_by_oem AS SELECT * FROM failure_events")
            placeholders = ", ".join("?" for _ in names)
            conn.executemany(
                f"INSERT INTO failure_events VALUES ({placeholders})",
                [[row[n] for n in names] for row in rows],
            )
        return FileEventSource(path)

    return build


@pytest.fixture
def tiny_source(make_event_source: Callable[[list[dict[str, Any]]], FileEventSource]) -> FileEventSource:
    return make_event_source(list(TINY_EVENTS))
