"""A run records how fresh its data was: the event table version it read, the newest event in it, and
the install base version read with it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from driverlens.auth.principal import Principal
from driverlens.blobs.store import LocalBlobStore
from driverlens.clock import FrozenClock
from driverlens.engines import DuckDBEngine
from driverlens.events import EventStore, seed_events
from driverlens.installs.ingest import ingest_installs
from driverlens.metadata import Run, RunState
from driverlens.metadata.database import Database
from driverlens.runs.worker import Worker, WorkerOptions
from driverlens.settings import Settings
from driverlens.usecases.reportdata import report_data
from driverlens.usecases.run_history import run_history
from driverlens.usecases.timestamps import iso_utc
from tests.runs.conftest import T0, Scheduled
from tests.runs.fakes import RecordingSink


def test_a_completed_run_records_the_table_version_and_newest_event_it_read(
    sqlite_db: Database, make_report: object, settings: Settings, tmp_path: Path
) -> None:
    clock = FrozenClock(T0 + timedelta(minutes=1))
    store = EventStore(settings.data_dir)
    seed_events(store, rows=2000, days=10, seed=3, now=clock.now())
    installs = tmp_path / "installs.csv"
    installs.write_text(
        "InstallDate,IhvPartner,OemPartner,DriverName,DriverVersion,OSVersion,DeviceCount\n"
        "2026-03-01,Contoso Graphics,Northwind Systems,cgfx.sys,31.0.15.1008,10.0.22631.4317,7\n"
    )
    ingest_installs(store, [installs])
    snapshot = store.snapshot()
    sched: Scheduled = make_report(sqlite_db, partner_name="Contoso Graphics", recurrence=1)  # type: ignore[operator]
    blobs = LocalBlobStore(tmp_path / "blobs", clock=clock)
    options = WorkerOptions(lease_s=30, poll_s=0.02, grace_s=5, compact=False)
    worker = Worker(
        sqlite_db,
        DuckDBEngine(store),
        blobs,
        settings,
        clock,
        "w1",
        options=options,
        callbacks=RecordingSink(),
    )
    worker.housekeeping()
    assert worker.run_one()
    with sqlite_db.session() as session:
        (run,) = session.scalars(select(Run)).all()
    assert run.state is RunState.COMPLETED, run.error
    assert run.store_version == snapshot.version
    # The install base version read in the same snapshot is recorded too.
    assert run.install_base_version == snapshot.install_base_version == 1
    assert snapshot.newest_event is not None and run.data_newest_event_at == snapshot.newest_event
    caller = Principal(sched.partner.id, sched.partner.name, sched.partner.kind, "t", "c")
    (shown,) = [h.to_json() for h in run_history(sqlite_db, caller, sched.report.id)]
    assert shown["storeVersion"] == snapshot.version
    assert shown["installBaseVersion"] == 1
    assert shown["dataNewestEventDatetime"]
    # Report data shows the same, beside the link (through the ORM and the SQLite fast path alike).
    orm_db = Database(sqlite_db.url, fast_path=False)
    assert sqlite_db.fast is not None and orm_db.fast is None
    for path in (orm_db, sqlite_db):
        (item,) = report_data(
            path, caller, sched.report.id, run.due_at.date(), run.due_at.date(),
            lambda key, name, sha: f"https://x/{key}",
        )  # fmt: skip
        listed = item.to_json()
        assert listed["DataStoreVersion"] == snapshot.version
        assert listed["DataNewestEventDatetime"] == iso_utc(snapshot.newest_event)
    orm_db.dispose()
