"""Fixtures for the engine tests: a tiny hand-made event table and raw SQL queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlglot import exp

from driverlens.catalog import STORED_COLUMNS
from driverlens.compiler.query import _uuid_text
from driverlens.events import EventStore
from driverlens.events.schema import create_table_sql
from driverlens.events.write import commit_batch


@dataclass(frozen=True)
class RawQuery:
    """A hand-written DuckDB query that satisfies the engine's query port."""

    text: str

    def sql(self, dialect: str = "duckdb") -> str:
        assert dialect == "duckdb"
        return self.text


def uuid_as_compiled(column: str) -> str:
    """A stored UUID column (16 bytes) as compiled report queries output it (canonical UUID text).

    Raw queries over the table see the bytes; what reaches report files and previews is the compiler's
    rendering, so the engine tests select UUIDs through it.
    """
    return f"{_uuid_text(exp.column(column, quoted=True)).sql('duckdb')} AS {column}"


FileEventSource = EventStore  # the event store the engine tests read (a real Delta table)


def store_rows(store: EventStore, rows: list[dict[str, Any]]) -> None:
    """Commit hand-made events to ``store`` through the one write path (UUIDs become bytes)."""
    names = [name for name, _ in STORED_COLUMNS]
    with store.scratch() as con:
        con.execute(create_table_sql("rows"))
        placeholders = ", ".join("?" for _ in names)
        con.executemany(
            f"INSERT INTO rows VALUES ({placeholders})",
            [[v.bytes if isinstance(v, UUID) else v for v in (row[n] for n in names)] for row in rows],
        )
        commit_batch(store.lake, con, "rows", batch_id=uuid4().hex, operation="test")


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
    """Builder: an event store (Delta table) holding the given rows."""
    counter = iter(range(1_000_000))

    def build(rows: list[dict[str, Any]]) -> FileEventSource:
        store = EventStore(tmp_path / f"events-{next(counter)}")
        store_rows(store, rows)
        return store

    return build


@pytest.fixture
def tiny_source(make_event_source: Callable[[list[dict[str, Any]]], FileEventSource]) -> FileEventSource:
    return make_event_source(list(TINY_EVENTS))
