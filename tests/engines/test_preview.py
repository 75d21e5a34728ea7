"""Preview: column names and the first rows as JSON-safe values."""

from __future__ import annotations

import json

import pytest

from driverlens.engines import DuckDBEngine
from tests.engines.conftest import DEVICE_A, HASH_A, FileEventSource, RawQuery, uuid_as_compiled

ORDERED = RawQuery(
    f"SELECT EventId, FailureDate, FailureDateTime, {uuid_as_compiled('FailureHash')}, "
    f"{uuid_as_compiled('DeviceId')}, EventCount FROM failure_events ORDER BY EventCount DESC, EventId"
)


def test_preview_limits_rows_and_keeps_order(tiny_source: FileEventSource) -> None:
    columns, rows = DuckDBEngine(tiny_source).preview(ORDERED, limit=2, timeout_s=10)
    assert columns == ["EventId", "FailureDate", "FailureDateTime", "FailureHash", "DeviceId", "EventCount"]
    assert [r[0] for r in rows] == ["e4", "e2"]


def test_preview_values_are_json_safe(tiny_source: FileEventSource) -> None:
    _, rows = DuckDBEngine(tiny_source).preview(ORDERED, limit=10, timeout_s=10)
    assert len(rows) == 4
    last = rows[-1]
    assert last == ["e3", "2026-03-02", "2026-03-02T00:00:01Z", str(HASH_A), str(DEVICE_A), 3]
    json.dumps(rows)  # raises if anything is not JSON-serialisable


def test_preview_never_exceeds_the_query_own_limit(tiny_source: FileEventSource) -> None:
    query = RawQuery(f"{ORDERED.text} LIMIT 1")
    _, rows = DuckDBEngine(tiny_source).preview(query, limit=50, timeout_s=10)
    assert [r[0] for r in rows] == ["e4"]


def test_preview_of_zero_rows_still_names_columns(tiny_source: FileEventSource) -> None:
    columns, rows = DuckDBEngine(tiny_source).preview(ORDERED, limit=0, timeout_s=10)
    assert len(columns) == 6 and rows == []
    with pytest.raises(ValueError, match=">= 0"):
        DuckDBEngine(tiny_source).preview(ORDERED, limit=-1, timeout_s=10)
