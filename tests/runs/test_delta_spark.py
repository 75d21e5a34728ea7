"""Delta reports on the Spark engine: the same two runs give the same files, byte for byte, as on DuckDB
(Spark writes the base, the comparison runs in DuckDB for both)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from driverlens.engines import DuckDBEngine
from driverlens.engines.spark_engine import SparkEngine, spark_session, stop_spark
from driverlens.events import EventStore
from driverlens.metadata.database import Database
from driverlens.metadata.models import RunState
from driverlens.settings import Settings
from tests.engines.test_spark import MASTER, _java_missing
from tests.runs.conftest import Scheduled
from tests.runs.delta_harness import DeltaHarness
from tests.runs.test_delta_reports import BODY, A, B, C, D, E, _events


@pytest.fixture(scope="module")
def spark() -> Iterator[None]:
    reason = _java_missing()
    if reason is not None:
        pytest.skip(reason)
    spark_session(MASTER)
    yield
    stop_spark()


def _two_runs(harness: DeltaHarness) -> list[bytes]:
    harness.add(_events(A, 10, date(2026, 2, 25)) + _events(B, 10, date(2026, 2, 25)))
    harness.add(_events(C, 5, date(2026, 2, 22)) + _events(D, 10, date(2026, 2, 26)))
    first = harness.run_next()
    harness.add(_events(A, 10, date(2026, 2, 27)) + _events(B, 9, date(2026, 2, 27)))
    harness.add(_events(E, 3, date(2026, 3, 1)))
    second = harness.run_next()
    assert first.state is RunState.COMPLETED and second.state is RunState.COMPLETED, second.error
    assert second.delta_summary is not None
    counts = {k: second.delta_summary[k] for k in ("new", "regressed", "resolved")}
    assert counts == {"new": 1, "regressed": 1, "resolved": 1}
    return [harness.blobs.path_for(run.location).read_bytes() for run in (first, second)]


def test_spark_and_duckdb_write_the_same_delta_files(
    spark: None,
    tmp_path: Path,
    settings: Settings,
    make_report: Callable[..., Scheduled],
    sqlite_db: Database,
) -> None:
    def spark_engine(store: EventStore) -> SparkEngine:
        return SparkEngine(store, MASTER)

    on_spark = DeltaHarness.build(
        sqlite_db, settings, tmp_path / "spark", make_report, BODY, output_format="csv", engine=spark_engine
    )
    spark_files = _two_runs(on_spark)
    assert b"Regressed" in spark_files[1] and b"Baseline" in spark_files[0]
    # The same events, committed in the same two batches, run on DuckDB.
    duck = DeltaHarness.build(
        sqlite_db, settings, tmp_path / "duckdb", make_report, BODY, output_format="csv", engine=DuckDBEngine,
        partner=on_spark.sched.partner,
    )  # fmt: skip
    duck.add(on_spark.seen[min(on_spark.seen)])
    duck_first = duck.run_next()
    duck.add(on_spark.events[len(on_spark.seen[min(on_spark.seen)]) :])
    duck_second = duck.run_next()
    assert [duck.blobs.path_for(r.location).read_bytes() for r in (duck_first, duck_second)] == spark_files
