"""The engine port: run a compiled report query over one event-table snapshot into a file, or preview it.

Engines see the events only as a snapshot (a table version and its Parquet files, ``events.lake``): the
DuckDB adapter binds the files as views on its own warm instance, the Spark adapter reads the same files.
No engine's connection type crosses this port.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from driverlens.engines.formats import OutputFormat, RunOutput
from driverlens.events.lake import Snapshot


class Query(Protocol):
    """What an engine needs from a compiled query (``driverlens.compiler.CompiledQuery`` is one)."""

    def sql(self, dialect: str = "duckdb") -> str: ...


class EventSource(Protocol):
    """Where failure events are (``driverlens.events.EventStore`` is one)."""

    def snapshot(self) -> Snapshot:
        """The newest table version with its files; a run reads exactly this from start to end."""
        ...


class Engine(Protocol):
    """Runs compiled queries: DuckDB embedded, Spark distributed."""

    def run_to_file(
        self, query: Query, dest: Path, fmt: OutputFormat, timeout_s: float | None
    ) -> RunOutput: ...

    def preview(self, query: Query, limit: int, timeout_s: float) -> tuple[list[str], list[list[Any]]]: ...
