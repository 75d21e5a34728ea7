"""Worker counters move as a real worker claims, completes, retries and fails runs; the queue gauges
read the metadata store (SQLite and PostgreSQL) per partner."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from driverlens.blobs.store import LocalBlobStore
from driverlens.clock import FrozenClock
from driverlens.engines import OutputFormat, Query, RunOutput
from driverlens.errors import QueryTimeout
from driverlens.metadata import Report, Run, RunState
from driverlens.metadata.database import Database
from driverlens.observability import ProcessMetrics
from driverlens.runs import leases
from driverlens.runs.failures import RUN_POLICY
from driverlens.runs.planner import plan_due_runs
from driverlens.runs.worker import Worker, WorkerOptions
from driverlens.settings import Settings
from tests.observability.capture import entries, json_log, value
from tests.runs.conftest import T0, Scheduled
from tests.runs.fakes import FakeEngine, RecordingSink

MakeReport = Callable[..., Scheduled]
QUICK_RETRY = dataclasses.replace(RUN_POLICY, max_attempts=2, base_delay_s=5.0, jitter=0.0)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0 + timedelta(minutes=1))


@pytest.fixture
def make_worker(settings: Settings, clock: FrozenClock, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    made: list[Worker] = []

    def build(db: Database, engine: Any, metrics: ProcessMetrics, lease_s: float = 30) -> Worker:
        worker = Worker(
            db, engine, LocalBlobStore(tmp_path / "blobs", clock=clock), settings, clock, "w1",
            options=WorkerOptions(lease_s=lease_s, poll_s=0.02, grace_s=5), callbacks=RecordingSink(),
            retry=QUICK_RETRY, metrics=metrics,
        )  # fmt: skip
        made.append(worker)
        return worker

    yield build
    for worker in made:
        worker.request_stop()


def runs(metrics: ProcessMetrics, event: str) -> float | None:
    return value(metrics.render(), "driverlens_worker_runs_total", role="worker", event=event)


def test_claimed_completed_retried_and_failed_are_counted(
    sqlite_db: Database, make_report: MakeReport, make_worker: Callable[..., Worker], clock: FrozenClock
) -> None:
    make_report(sqlite_db, recurrence=2, interval=1, start=T0 - timedelta(hours=2))
    plan_due_runs(sqlite_db, clock.now())
    metrics = ProcessMetrics("worker")
    engine = FakeEngine(errors=[OSError("disk hiccup")])
    worker = make_worker(sqlite_db, engine, metrics)
    assert runs(metrics, "claimed") == 0 and runs(metrics, "completed") == 0  # shown before anything

    assert worker.run_one()  # transient error: handed back with backoff
    assert (runs(metrics, "claimed"), runs(metrics, "retried"), runs(metrics, "completed")) == (1, 1, 0)
    assert worker.run_one()  # the other run completes
    assert (runs(metrics, "claimed"), runs(metrics, "completed")) == (2, 1)

    clock.advance(timedelta(minutes=1))
    engine.errors.append(QueryTimeout("too slow"))
    assert worker.run_one()  # the retried run times out: failed for good
    assert (runs(metrics, "claimed"), runs(metrics, "failed"), runs(metrics, "lease_lost")) == (3, 1, 0)
    assert not worker.run_one()
    assert runs(metrics, "claimed") == 3  # an idle poll claims nothing


@dataclasses.dataclass
class StolenLease:
    """An engine during whose query another worker takes the run over (as after an expired lease)."""

    db: Database
    inner: FakeEngine = dataclasses.field(default_factory=FakeEngine)

    def run_to_file(self, query: Query, dest: Path, fmt: OutputFormat, timeout_s: float | None) -> RunOutput:
        with self.db.write_session() as session:
            session.execute(update(Run).values(lease_owner="another-worker"))
        return self.inner.run_to_file(query, dest, fmt, timeout_s)


def test_lease_losses_are_counted_and_logged_with_the_run(
    sqlite_db: Database, make_report: MakeReport, make_worker: Callable[..., Worker], clock: FrozenClock
) -> None:
    sched = make_report(sqlite_db, recurrence=1, start=T0)
    plan_due_runs(sqlite_db, clock.now())
    metrics = ProcessMetrics("worker")
    # The lease keeper (renewing every 0.1 s) notices the takeover while the query still runs.
    worker = make_worker(sqlite_db, StolenLease(sqlite_db, FakeEngine(duration_s=0.6)), metrics, lease_s=0.3)
    with json_log() as buffer:
        assert worker.run_one()
    assert (runs(metrics, "lease_lost"), runs(metrics, "completed")) == (1, 0)
    lines = entries(buffer)
    lost = [line for line in lines if "lease lost to another worker" in line["message"]]
    assert lost, lines
    with sqlite_db.session() as session:
        (run_id,) = session.scalars(select(Run.id)).all()
    assert {(line["runId"], line["reportId"]) for line in lost} == {(run_id, sched.report.id)}


def test_runs_abandoned_by_dying_workers_count_as_failed(
    sqlite_db: Database, make_report: MakeReport, make_worker: Callable[..., Worker], clock: FrozenClock
) -> None:
    make_report(sqlite_db, recurrence=1, start=T0)
    plan_due_runs(sqlite_db, clock.now())
    with sqlite_db.write_session() as session:  # its workers died MAX_CLAIMS times
        session.execute(
            update(Run).values(
                state=RunState.IN_PROGRESS, attempts=leases.MAX_CLAIMS, lease_owner="dead",
                lease_expires_at=clock.now() - timedelta(seconds=1),
            )
        )  # fmt: skip
    metrics = ProcessMetrics("worker")
    worker = make_worker(sqlite_db, FakeEngine(), metrics)
    assert not worker.run_one()
    assert (runs(metrics, "failed"), runs(metrics, "claimed")) == (1, 0)


def test_queue_depth_and_oldest_age_per_partner(
    db: Database, make_report: MakeReport, clock: FrozenClock
) -> None:
    now = clock.now()
    make_report(db, partner_name="Contoso Graphics", recurrence=3, interval=1, start=now - timedelta(hours=5))
    make_report(db, partner_name="Fabrikam Audio", recurrence=1, start=now - timedelta(minutes=30))
    paused = make_report(db, partner_name="Paused Partner", recurrence=1, start=now - timedelta(hours=1))
    plan_due_runs(db, now)
    with db.write_session() as session:
        session.execute(update(Report).where(Report.id == paused.report.id).values(is_paused=True))
    metrics = ProcessMetrics("worker")
    metrics.watch_queue(db, clock)
    clock.advance(timedelta(minutes=10))
    text = metrics.render()
    assert value(text, "driverlens_run_queue_depth", role="worker", partner="Contoso Graphics") == 3
    assert value(text, "driverlens_run_queue_depth", role="worker", partner="Fabrikam Audio") == 1
    assert value(text, "driverlens_run_queue_depth", partner="Paused Partner") is None  # not claimable
    oldest = value(text, "driverlens_run_queue_oldest_age_seconds", partner="Contoso Graphics")
    assert oldest == (5 * 60 + 10) * 60  # due 5 h before "now", scraped 10 min later
    assert value(text, "driverlens_run_queue_oldest_age_seconds", partner="Fabrikam Audio") == 40 * 60
    assert value(text, "driverlens_run_queue_up", role="worker") == 1

    # A run whose worker died (lease expired) is waiting again, since its lease ran out.
    with db.write_session() as session:
        session.execute(
            update(Run).where(Run.report_id == paused.report.id).values(
                state=RunState.IN_PROGRESS, lease_owner="dead",
                lease_expires_at=clock.now() - timedelta(minutes=2),
            )
        )  # fmt: skip
    text = metrics.render()
    assert value(text, "driverlens_run_queue_depth", partner="Paused Partner") == 1
    assert value(text, "driverlens_run_queue_oldest_age_seconds", partner="Paused Partner") == 120


def test_queue_unreadable_is_reported_not_raised(tmp_path: Path, clock: FrozenClock) -> None:
    db = Database(f"sqlite:///{tmp_path / 'not-migrated.db'}")  # no tables: the query fails
    metrics = ProcessMetrics("worker")
    metrics.watch_queue(db, clock)
    text = metrics.render()
    assert value(text, "driverlens_run_queue_up", role="worker") == 0
    assert value(text, "driverlens_run_queue_depth") is None
    db.dispose()
