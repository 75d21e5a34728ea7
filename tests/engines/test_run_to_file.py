"""Atomic output, time budgets, safe paths and concurrent runs."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from driverlens.engines import DuckDBEngine, OutputFormat, QueryFailed
from driverlens.engines.duckdb_engine import _budget
from driverlens.errors import QueryTimeout
from tests.engines.conftest import FileEventSource, RawQuery

# Billions of rows: minutes of work, so only the time budget can end it quickly.
ENDLESS = RawQuery("SELECT range AS n FROM range(50000000000) WHERE hash(range) = 42")
SIMPLE = RawQuery("SELECT EventId, DriverName FROM failure_events ORDER BY EventId")


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_timeout_raises_and_leaves_no_file(tiny_source: FileEventSource, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    started = time.perf_counter()
    with pytest.raises(QueryTimeout, match=r"time budget of 0.3 s"):
        DuckDBEngine(tiny_source).run_to_file(ENDLESS, out_dir / "r.csv", OutputFormat.CSV, timeout_s=0.3)
    assert time.perf_counter() - started < 10
    assert _leftovers(out_dir) == []


def test_timeout_that_fires_before_the_statement_starts_still_stops_it(
    tiny_source: FileEventSource, tmp_path: Path
) -> None:
    with pytest.raises(QueryTimeout):
        DuckDBEngine(tiny_source).run_to_file(ENDLESS, tmp_path / "r.csv", OutputFormat.CSV, timeout_s=1e-6)
    assert _leftovers(tmp_path) == [p for p in _leftovers(tmp_path) if p.startswith("events-")]


@pytest.mark.timeout(60)
def test_budget_that_expired_before_the_statement_began_still_interrupts_it(
    tiny_source: FileEventSource,
) -> None:
    """DuckDB forgets an interrupt sent while idle; the watchdog must keep interrupting until done."""
    with tiny_source.reading() as conn, pytest.raises(QueryTimeout), _budget(conn, 0.01):
        time.sleep(0.3)  # the budget runs out before the statement starts
        conn.execute(ENDLESS.text).fetchall()


def test_preview_timeout(tiny_source: FileEventSource) -> None:
    with pytest.raises(QueryTimeout):
        DuckDBEngine(tiny_source).preview(ENDLESS, limit=5, timeout_s=0.3)


def test_failed_query_keeps_the_previous_file_and_leaves_no_temp(
    tiny_source: FileEventSource, tmp_path: Path
) -> None:
    dest = tmp_path / "out" / "report.csv"
    engine = DuckDBEngine(tiny_source)
    first = engine.run_to_file(SIMPLE, dest, OutputFormat.CSV, timeout_s=30)
    before = dest.read_bytes()
    # Fails at run time, after COPY has started writing (a cast error on the third row).
    broken = RawQuery(
        "SELECT EventId, CASE WHEN EventId = 'e3' THEN CAST('x' AS INTEGER) ELSE 1 END AS v "
        "FROM failure_events ORDER BY EventId"
    )
    with pytest.raises(QueryFailed, match="Conversion Error"):
        engine.run_to_file(broken, dest, OutputFormat.CSV, timeout_s=30)
    assert dest.read_bytes() == before
    assert _leftovers(dest.parent) == ["report.csv"]
    assert first.rows == 4


def test_successful_run_replaces_the_previous_file(tiny_source: FileEventSource, tmp_path: Path) -> None:
    dest = tmp_path / "report.csv"
    dest.write_text("stale\n", encoding="utf-8")
    DuckDBEngine(tiny_source).run_to_file(SIMPLE, dest, OutputFormat.CSV, timeout_s=None)
    assert dest.read_text(encoding="utf-8").splitlines()[0] == "EventId,DriverName"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("events-")) == ["report.csv"]


def test_paths_with_quotes_and_spaces_are_passed_safely(tiny_source: FileEventSource, tmp_path: Path) -> None:
    dest = tmp_path / 'it\'s a "report"; DROP TABLE x' / "o'brien.csv"
    out = DuckDBEngine(tiny_source).run_to_file(SIMPLE, dest, OutputFormat.CSV, timeout_s=30)
    assert dest.is_file() and out.rows == 4


def test_concurrent_runs_in_threads_are_independent(tiny_source: FileEventSource, tmp_path: Path) -> None:
    engine = DuckDBEngine(tiny_source)
    agg = RawQuery("SELECT DriverName, SUM(EventCount) AS total FROM failure_events GROUP BY 1 ORDER BY 1")

    def run(i: int) -> str:
        query = SIMPLE if i % 2 else agg
        return engine.run_to_file(query, tmp_path / f"r{i}.csv", OutputFormat.CSV, timeout_s=30).sha256

    with ThreadPoolExecutor(max_workers=4) as pool:
        digests = list(pool.map(run, range(8)))
    assert len(set(digests[0::2])) == 1 and len(set(digests[1::2])) == 1
    assert digests[0] != digests[1]
