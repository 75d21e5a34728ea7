"""Which engine runs report files: ``DRIVERLENS_ENGINE`` (DuckDB embedded, or Spark over the same table)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from driverlens.engines.duckdb_engine import DuckDBEngine
from driverlens.engines.port import Engine
from driverlens.settings import Settings

if TYPE_CHECKING:
    from driverlens.events import EventStore


def engine_for(settings: Settings, events: EventStore) -> Engine:
    """The report engine the settings choose, reading ``events``."""
    if settings.engine == "spark":
        from driverlens.engines.spark_engine import SparkEngine

        return SparkEngine(events, settings.spark_master)
    return DuckDBEngine(events)
