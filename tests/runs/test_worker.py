"""The worker in one process: real DuckDB end to end, retries, time budget, callbacks, stop, retention."""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from driverlens.blobs.store import LocalBlobStore
from driverlens.clock import FrozenClock
from driverlens.engines import DuckDBEngine, Engine, QueryFailed
from driverlens.errors import QueryTimeout
from driverlens.events import EventStore, seed_events
from driverlens.metadata import Run, RunState
from driverlens.metadata.database import Database
from driverlens.runs.failures import RUN_POLICY
from driverlens.runs.planner import plan_due_runs
from driverlens.runs.worker import Worker, WorkerOptions
from driverlens.settings import Settings
from tests.runs.conftest import T0, Scheduled
from tests.runs.fakes import FakeEngine, RecordingSink, blob_files

MakeReport = Callable[..., Scheduled]
MakeWorker = Callable[..., tuple[Worker, LocalBlobStore, RecordingSink]]
QUICK_RETRY = dataclasses.replace(
    RUN_POLICY, max_attempts=3, base_delay_s=5.0, max_delay_s=60.0, multiplier=2.0, jitter=0.0
)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0 + timedelta(minutes=1))


@pytest.fixture
def make_worker(settings: Settings, clock: FrozenClock, tmp_path: Path) -> Iterator[MakeWorker]:
    made: list[Worker] = []

    def build(
        db: Database, engine: Engine, *, with_settings: Settings | None = None, **kwargs: object
    ) -> tuple[Worker, LocalBlobStore, RecordingSink]:
        blobs = LocalBlobStore(tmp_path / "blobs", clock=clock)
        sink = RecordingSink()
        worker = Worker(
            db, engine, blobs, with_settings or settings, clock, "w1",
            options=WorkerOptions(lease_s=30, poll_s=0.02, grace_s=5), callbacks=sink,
            retry=QUICK_RETRY, **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip
        made.append(worker)
        return worker, blobs, sink

    yield build
    for worker in made:
        if worker.stopping:
            continue
        worker.request_stop()


def only_run(db: Database) -> Run:
    with db.session() as session:
        (run,) = session.scalars(select(Run)).all()
        return run


def test_real_duckdb_run_end_to_end(
    sqlite_db: Database, make_report: MakeReport, make_worker: MakeWorker,
    settings: Settings, clock: FrozenClock,
) -> None:  # fmt: skip
    store = EventStore(settings.data_dir)
    seed_events(store, rows=4000, days=20, seed=3, now=clock.now())
    sched = make_report(
        sqlite_db, partner_name="Contoso Graphics", recurrence=1, callback_url="https://partner.example/hook"
    )
    worker, blobs, sink = make_worker(sqlite_db, DuckDBEngine(store), events=store)
    worker.housekeeping()  # plans run 0
    assert worker.run_one()
    run = only_run(sqlite_db)
    assert run.state is RunState.COMPLETED, run.error
    # The file name carries 128 random bits, so knowing the ids is not enough to name it (issue 10.3).
    assert re.fullmatch(
        rf"reports/{sched.partner.id}/{sched.report.id}/{run.id}-1-[0-9a-f]{{32}}\.csv", run.location
    )
    with blobs.open_read(run.location) as handle:
        rows = list(csv.reader(handle.read().decode().splitlines()))
    assert rows[0] == ["DriverName", "FailureName", "SUM(EventCount)"]
    with store.reading() as con:
        expected = con.execute(
            """SELECT count(*) FROM (SELECT DriverName, FailureName FROM failure_events
               WHERE IhvPartner = 'Contoso Graphics' AND FailureDate >= ? AND FailureDate < ?
               GROUP BY 1, 2)""",
            [run.window_start, run.window_end],
        ).fetchone()
    assert expected is not None and expected[0] > 0
    assert run.row_count == expected[0] == len(rows) - 1
    assert run.bytes == blobs.stat(run.location).size and len(run.sha256 or "") == 64
    assert sink.enqueued == [(run.id, "Completed", "https://partner.example/hook")]
    assert not worker.run_one()  # nothing else to do

    # Thirty days later the file is purged; the run stays listed without a location.
    clock.advance(timedelta(days=31))
    worker.purge(clock.now())
    run = only_run(sqlite_db)
    assert run.state is RunState.COMPLETED and run.location == ""
    assert list(blob_files(blobs.root)) == []


def test_transient_errors_are_retried_with_backoff_then_failed(
    db: Database, make_report: MakeReport, make_worker: MakeWorker,
    clock: FrozenClock,
) -> None:  # fmt: skip
    make_report(db, recurrence=1, callback_url="https://partner.example/hook")
    engine = FakeEngine(errors=[QueryFailed("disk full") for _ in range(3)])
    worker, _, sink = make_worker(db, engine)
    plan_due_runs(db, clock.now())
    assert worker.run_one()
    run = only_run(db)
    assert (run.state, run.attempts) == (RunState.PENDING, 1)
    assert (run.error or "").startswith("TemporaryFailure: ") and "disk full" not in (run.error or "")
    assert run.next_attempt_at == clock.now() + timedelta(seconds=5)
    assert not worker.run_one()  # backing off
    clock.advance(timedelta(seconds=5))
    assert worker.run_one()
    assert only_run(db).next_attempt_at == clock.now() + timedelta(seconds=10)
    clock.advance(timedelta(seconds=10))
    assert worker.run_one()
    run = only_run(db)
    assert run.state is RunState.FAILED and run.attempts == 3 and engine.calls == 3
    assert (run.error or "").startswith("RetriesExhausted: ") and "failed 3 times" in (run.error or "")
    assert "disk full" not in (run.error or "") and "trackingId run-1-3" in (run.error or "")
    assert f"/analytics/driver/report/{run.report_id}/run" in (run.error or "")
    assert sink.enqueued == [(run.id, "Failed", "https://partner.example/hook")]


def test_transient_error_then_success_completes(
    db: Database, make_report: MakeReport, make_worker: MakeWorker,
    clock: FrozenClock,
) -> None:  # fmt: skip
    make_report(db, recurrence=1)
    worker, blobs, sink = make_worker(db, FakeEngine(errors=[OSError("connection reset")]))
    plan_due_runs(db, clock.now())
    worker.run_one()
    clock.advance(timedelta(seconds=5))
    worker.run_one()
    run = only_run(db)
    assert run.state is RunState.COMPLETED and run.attempts == 2 and "-2-" in run.location.rsplit("/", 1)[1]
    assert list(blob_files(blobs.root)) == [run.location]
    assert sink.enqueued == []  # no callback URL


def test_time_budget_overrun_fails_with_the_reason(
    db: Database, make_report: MakeReport, make_worker: MakeWorker,
    clock: FrozenClock,
) -> None:  # fmt: skip
    make_report(db, recurrence=1)
    reason = "the report query ran longer than its time budget of 600 s and was stopped"
    worker, _, _ = make_worker(db, FakeEngine(errors=[QueryTimeout(reason)]))
    plan_due_runs(db, clock.now())
    worker.run_one()
    run = only_run(db)
    assert run.state is RunState.FAILED and run.attempts == 1
    assert (run.error or "").startswith(f"QueryTimeout: {reason}")


def test_a_template_that_no_longer_compiles_fails_with_a_fix(
    db: Database, make_report: MakeReport, make_worker: MakeWorker,
    clock: FrozenClock,
) -> None:  # fmt: skip
    from driverlens.catalog import PartnerKind

    body = {"view": "IHVDriver", "projection": ["DriverName"], "dateRange": {"reportPeriod": "Yesterday"}}
    sched = make_report(db, recurrence=1, kind=PartnerKind.OEM, body=body)  # an OEM cannot read IHVDriver
    worker, _, _ = make_worker(db, FakeEngine())
    plan_due_runs(db, clock.now())
    worker.run_one()
    run = only_run(db)
    assert run.state is RunState.FAILED and run.attempts == 1  # permanent: not retried
    assert (run.error or "").startswith("TemplateInvalid: ")
    assert f"/analytics/driver/reporttemplate/{sched.template_id}" in (run.error or "")


def test_engine_errors_about_the_query_fail_at_once_without_internals(
    db: Database, make_report: MakeReport, make_worker: MakeWorker,
    clock: FrozenClock, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """Issue 10.7/10.8: a query DuckDB refuses is not retried, and its message stays in the server log."""
    make_report(db, recurrence=1)
    internal = 'Binder Error: Referenced column "x" not found in /srv/var/tmp/run-1-1.csv'
    failure = QueryFailed(f"the report query failed in DuckDB: {internal}")
    failure.__cause__ = duckdb.BinderException(internal)
    engine = FakeEngine(errors=[failure])
    worker, _, _ = make_worker(db, engine)
    plan_due_runs(db, clock.now())
    with caplog.at_level("ERROR", logger="driverlens.runs.execution"):
        worker.run_one()
    run = only_run(db)
    assert run.state is RunState.FAILED and run.attempts == 1 and engine.calls == 1
    assert (run.error or "").startswith("QueryRejected: ") and "trackingId run-1-1" in (run.error or "")
    assert "/srv/var" not in (run.error or "") and "Binder" not in (run.error or "")
    assert "trackingId=run-1-1" in caplog.text and internal in caplog.text


def test_io_errors_are_retried_and_their_paths_stay_in_the_log(
    db: Database, make_report: MakeReport, make_worker: MakeWorker,
    clock: FrozenClock, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    make_report(db, recurrence=1)
    path_error = OSError(28, "No space left on device", "/srv/var/blobs/reports/1/12/.tmp-abc123")
    worker, _, _ = make_worker(db, FakeEngine(errors=[path_error]))
    plan_due_runs(db, clock.now())
    with caplog.at_level("WARNING", logger="driverlens.runs.execution"):
        worker.run_one()
    run = only_run(db)
    assert run.state is RunState.PENDING and run.attempts == 1  # transient: retried
    assert ".tmp-" not in (run.error or "") and "/srv/var" not in (run.error or "")
    assert ".tmp-abc123" in caplog.text


def test_stop_hands_back_a_run_that_does_not_finish_in_time(
    db: Database, make_report: MakeReport, make_worker: MakeWorker,
    clock: FrozenClock,
) -> None:  # fmt: skip
    import time

    make_report(db, recurrence=1)
    worker, blobs, _ = make_worker(db, FakeEngine(duration_s=1.5))
    worker.start()
    deadline = time.monotonic() + 10
    while only_run_state(db) is not RunState.IN_PROGRESS and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop(grace_s=0.2)
    run = only_run(db)
    assert (run.state, run.lease_owner, run.attempts) == (RunState.PENDING, None, 0)
    time.sleep(1.6)  # the abandoned query ends; its commit is refused and its file removed
    assert only_run(db).state is RunState.PENDING
    assert list(blob_files(blobs.root)) == []


def test_stop_lets_a_short_run_finish(
    db: Database, make_report: MakeReport, make_worker: MakeWorker,
) -> None:  # fmt: skip
    import time

    make_report(db, recurrence=1)
    worker, _, sink = make_worker(db, FakeEngine(duration_s=0.3))
    worker.start()
    deadline = time.monotonic() + 10
    while only_run_state(db) is not RunState.IN_PROGRESS and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop(grace_s=5)
    assert only_run(db).state is RunState.COMPLETED
    assert sink.dispatches >= 1


def only_run_state(db: Database) -> RunState | None:
    with db.session() as session:
        states = session.scalars(select(Run.state)).all()
    return states[0] if states else None


def test_in_process_worker_for_serve(settings: Settings, make_report: MakeReport) -> None:
    import time
    from datetime import UTC, datetime

    from driverlens.metadata.migrate import migrate_database
    from driverlens.runs.worker import start_in_process_worker

    now = datetime.now(UTC)
    seed_events(EventStore(settings.data_dir), rows=2000, days=5, seed=2, now=now)
    db = Database(settings.metadata_url)
    migrate_database(db)
    make_report(db, partner_name="Fabrikam Audio", start=now - timedelta(seconds=1), recurrence=1, now=now)
    handle = start_in_process_worker(settings)
    try:
        deadline = time.monotonic() + 30
        while only_run_state(db) is not RunState.COMPLETED and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        handle.stop()
    run = only_run(db)
    db.dispose()
    assert run.state is RunState.COMPLETED, run.error
    assert (settings.blobs_dir / run.location).is_file()
    assert not handle.worker.tmp_dir.exists()


def test_callback_retry_policy_follows_the_settings(settings: Settings) -> None:
    from driverlens.callbacks.dispatcher import CALLBACK_POLICY
    from driverlens.retry import CALLBACK_RETRY
    from driverlens.runs.worker import callback_retry

    assert callback_retry(settings) == CALLBACK_POLICY
    assert dataclasses.replace(CALLBACK_POLICY, permanent=(), transient=()) == CALLBACK_RETRY
    custom = settings.model_copy(update={"callback_max_attempts": 3, "callback_max_delay_seconds": 60.0})
    policy = callback_retry(custom)
    assert (policy.max_attempts, policy.max_delay_s, policy.base_delay_s) == (3, 60.0, 15.0)
    assert policy.exhausted(3) and not policy.exhausted(2)


@pytest.mark.parametrize(
    ("output_format", "raw", "neutralised"),
    [
        ("csv", False, True),
        ("tsv", False, True),
        ("csv.gz", False, True),
        ("tsv.gz", False, True),
        ("jsonl", False, False),
        ("parquet", False, False),
        ("csv", True, False),
    ],
)
def test_spreadsheet_formulas_are_neutralised_in_csv_and_tsv_by_default(
    db: Database, make_report: MakeReport, make_worker: MakeWorker,
    settings: Settings, output_format: str, raw: bool, neutralised: bool,
) -> None:  # fmt: skip
    """Issue 10.9: the run's query prefixes formula-like text cells unless DRIVERLENS_RAW_CSV_CELLS is set."""
    make_report(db, recurrence=1, output_format=output_format)
    settings = settings.model_copy(update={"raw_csv_cells": raw})
    worker, blobs, _ = make_worker(db, FakeEngine(), with_settings=settings)
    plan_due_runs(db, T0 + timedelta(minutes=1))
    assert worker.run_one()
    run = only_run(db)
    with blobs.open_read(run.location) as handle:
        sql = handle.read().decode()
    assert ("THEN '''' ||" in sql) is neutralised
