"""Shared fixtures. Factories are fixtures returning small builder functions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from driverlens.settings import Settings, get_settings

pytest_plugins = ["tests.fixtures_db", "tests.fixtures_azurite"]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings pointing at a fresh data dir; the process-wide settings see the same values."""
    monkeypatch.setenv("DRIVERLENS_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def postgres_url() -> str:
    return os.environ.get("DRIVERLENS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
