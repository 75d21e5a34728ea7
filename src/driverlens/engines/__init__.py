"""The engine port (run a compiled query into a report file) and its DuckDB adapter."""

from driverlens.engines.duckdb_engine import DuckDBEngine, QueryFailed
from driverlens.engines.formats import OutputFormat, RunOutput
from driverlens.engines.port import Engine, EventSource, Query

__all__ = ["DuckDBEngine", "Engine", "EventSource", "OutputFormat", "Query", "QueryFailed", "RunOutput"]
