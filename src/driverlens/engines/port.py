"""The engine port: run a compiled report query into a file, or preview its first rows."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import duckdb

from driverlens.engines.formats import OutputFormat, RunOutput


class Query(Protocol):
    """What an engine needs from a compiled query (``driverlens.compiler.CompiledQuery`` is one)."""

    def sql(self, dialect: str = "duckdb") -> str: ...


class EventSource(Protocol):
    """Where failure events are queryable (``driverlens.events.EventStore`` is one)."""

    def reading(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A connection for one block of reads, on which the event tables are queryable by name."""
        ...


class Engine(Protocol):
    """Runs compiled queries; DuckDB now, Spark later."""

    def run_to_file(
        self, query: Query, dest: Path, fmt: OutputFormat, timeout_s: float | None
    ) -> RunOutput: ...

    def preview(self, query: Query, limit: int, timeout_s: float) -> tuple[list[str], list[list[Any]]]: ...
