"""JSON-safe conversion of DuckDB result values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from driverlens.engines.values import json_safe


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (7, 7),
        ("x", "x"),
        (1.5, 1.5),
        (float("nan"), None),
        (float("inf"), None),
        (date(2026, 3, 1), "2026-03-01"),
        (datetime(2026, 3, 1, 4, 5, 6), "2026-03-01T04:05:06Z"),
        (datetime(2026, 3, 1, 4, 5, 6, tzinfo=UTC), "2026-03-01T04:05:06+00:00"),
        (UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (Decimal("12"), 12),
        (Decimal("1.25"), 1.25),
        (timedelta(minutes=1), 60.0),
        (b"\x01\xff", "01ff"),
        ([date(2026, 1, 2), UUID(int=2)], ["2026-01-02", "00000000-0000-0000-0000-000000000002"]),
        ({"d": date(2026, 1, 2)}, {"d": "2026-01-02"}),
    ],
)
def test_json_safe(value: object, expected: object) -> None:
    assert json_safe(value) == expected
