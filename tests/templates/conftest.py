"""Factories for template bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

BodyFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def body() -> BodyFactory:
    """Build a template body; keyword arguments replace (or, given None, remove) top-level keys."""

    def build(**overrides: Any) -> dict[str, Any]:
        result: dict[str, Any] = {
            "view": "IHVDriver",
            "projection": ["DriverName", "FailureHash"],
            "dateRange": {"reportPeriod": "Last7Days"},
        }
        for key, value in overrides.items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
        return result

    return build
