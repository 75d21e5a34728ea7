"""Metadata tests. The store fixtures (``sqlite_db``, ``postgres_db``, ``db``, ``fresh_postgres_url``,
``make_partner``) live in ``tests/fixtures_db.py``, loaded for every area by ``tests/conftest.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def template_body() -> dict[str, Any]:
    return {
        "view": "IHVDriver",
        "projection": ["FailureName", "DriverVersion"],
        "dateRange": {"reportPeriod": "Last7Days"},
        "aggregation": {"aggregatedColumns": ["SUM(EventCount)"]},
        "limit": 10,
    }
