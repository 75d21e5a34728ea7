"""Delta reports end to end: a seeded regression found and announced to a real HTTP receiver, the
baseline run, crash safety of the base, and clear failures for a key that does not name one row."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from driverlens.auth.principal import Principal
from driverlens.callbacks import CallbackGuard, parse_allowed_networks
from driverlens.callbacks.dispatcher import Dispatcher
from driverlens.metadata import Run, RunState
from driverlens.metadata.database import Database
from driverlens.runs import leases
from driverlens.runs.retention import purge_files
from driverlens.runs.states import LeaseLost
from driverlens.settings import Settings
from driverlens.usecases.reportdata import report_data
from driverlens.usecases.run_history import run_history
from tests.callbacks.conftest import Receiver
from tests.runs.conftest import Scheduled
from tests.runs.delta_harness import DeltaHarness, event

BODY: dict[str, Any] = {
    "view": "IHVDriver",
    "projection": ["DriverName", "FailureHash"],
    "dateRange": {"reportPeriod": "Last7Days"},
    "aggregation": {"aggregatedColumns": ["SUM(EventCount)", "DCOUNT(DeviceId)"]},
    "delta": {"key": ["DriverName", "FailureHash"], "measure": "SUM(EventCount)", "regressedRatio": 2},
}
# Run 0 (due 2026-03-01) reads 02-22..02-28, run 1 (due 03-02) reads 02-23..03-01.
A, B, C, D, E = (uuid.UUID(int=n) for n in (0xA, 0xB, 0xC, 0xD, 0xE))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()
    rec.thread.join(timeout=5)


def _events(failure_hash: uuid.UUID, n: int, day: date) -> list[dict[str, Any]]:
    return [event(day, failure_hash) for _ in range(n)]


def _csv(harness: DeltaHarness, location: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(harness.blobs.path_for(location).read_text())))


def _wait_for(receiver: Receiver, count: int, dispatcher: Dispatcher, db: Database) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while len(receiver.received) < count and time.monotonic() < deadline:
        dispatcher.dispatch_due(db)
        time.sleep(0.05)
    assert len(receiver.received) >= count, "the callback did not arrive"
    return [json.loads(r.body) for r in receiver.received]


def test_a_seeded_regression_is_found_and_its_callback_carries_the_counts(
    db: Database,
    settings: Settings,
    tmp_path: Path,
    make_report: Callable[..., Scheduled],
    receiver: Receiver,
) -> None:
    clock_holder: list[Any] = []
    dispatcher = Dispatcher(
        CallbackGuard(parse_allowed_networks("127.0.0.0/8")),
        public_base_url="https://dl.example/",
        clock=_LateClock(clock_holder),
        timeout_s=5,
    )
    harness = DeltaHarness.build(
        db, settings, tmp_path, make_report, BODY, output_format="csv", callback_url=receiver.url,
        callbacks=dispatcher,
    )  # fmt: skip
    clock_holder.append(harness.clock)
    harness.add(_events(A, 10, date(2026, 2, 25)))  # will double: regressed (exactly 2x)
    harness.add(_events(B, 10, date(2026, 2, 25)))  # will grow, but less than 2x: not flagged
    harness.add(_events(C, 5, date(2026, 2, 22)))  # outside run 1's window: resolved
    harness.add(_events(D, 10, date(2026, 2, 26)))  # unchanged
    first = harness.run_next()
    assert first.state is RunState.COMPLETED, first.error
    baseline_rows = _csv(harness, first.location)
    assert {r["DeltaStatus"] for r in baseline_rows} == {"Baseline"} and len(baseline_rows) == 4
    assert first.delta_summary is not None and first.delta_summary["baseline"] is True
    (notice,) = _wait_for(receiver, 1, dispatcher, db)
    assert notice["delta"]["baseline"] is True and notice["delta"]["new"] == 0

    harness.add(_events(A, 10, date(2026, 2, 27)))
    harness.add(_events(B, 9, date(2026, 2, 27)))
    harness.add(_events(E, 3, date(2026, 3, 1)))  # a bucket not seen before: new
    second = harness.run_next()
    assert second.state is RunState.COMPLETED, second.error
    rows = _csv(harness, second.location)
    got = {r["FailureHash"]: (r["DeltaStatus"], r["SUM(EventCount)"], r["DeltaPrevious"]) for r in rows}
    assert got == {
        str(E): ("New", "3", ""),
        str(A): ("Regressed", "20", "10"),
        str(C): ("Resolved", "", "5"),
    }
    assert [r["DeltaStatus"] for r in rows] == ["New", "Regressed", "Resolved"]

    notices = _wait_for(receiver, 2, dispatcher, db)
    delta = notices[1]["delta"]
    assert (delta["new"], delta["regressed"], delta["resolved"]) == (1, 1, 1)
    assert delta["baseline"] is False and delta["comparedWithReportDatetime"] == "2026-03-01T06:00:00Z"
    assert notices[1]["rowCount"] == 3

    # Run history and report data show the same summary.
    partner = harness.sched.partner
    caller = Principal(partner.id, partner.name, partner.kind, "t", "c")
    history = [h.to_json()["delta"] for h in run_history(db, caller, harness.sched.report.id)]
    assert history[0]["baseline"] is True and history[1]["regressed"] == 1
    # Through the ORM and the raw-driver fast path alike (on both stores).
    paths = [db, Database(db.url, fast_path=False)]
    assert db.fast is not None and paths[1].fast is None
    for path in paths:
        items = report_data(
            path, caller, harness.sched.report.id, date(2026, 3, 1), date(2026, 3, 2),
            lambda key, name, sha: f"https://x/{key}",
        )  # fmt: skip
        assert [i.to_json()["Delta"]["new"] for i in items] == [0, 1]
    for path in paths[1:]:
        path.dispose()


class _LateClock:
    """The harness's clock, known only once the harness exists (the dispatcher is built first)."""

    def __init__(self, holder: list[Any]) -> None:
        self._holder = holder

    def now(self) -> Any:
        return self._holder[0].now()


def test_a_lost_commit_leaves_no_base_and_the_retry_compares_with_the_committed_run(
    sqlite_db: Database,
    settings: Settings,
    tmp_path: Path,
    make_report: Callable[..., Scheduled],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = DeltaHarness.build(sqlite_db, settings, tmp_path, make_report, BODY)
    harness.add(_events(A, 4, date(2026, 2, 25)))
    first = harness.run_next()
    harness.add(_events(A, 8, date(2026, 2, 27)))
    blobs_root = tmp_path / "blobs"
    before = {p for p in blobs_root.rglob("*") if p.is_file()}

    real_complete = leases.complete

    def lose(*args: Any, **kwargs: Any) -> Any:
        raise LeaseLost("another worker took the run over")

    monkeypatch.setattr(leases, "complete", lose)
    harness.worker.housekeeping()
    assert harness.worker.run_one()
    # Neither the report file nor the base of the lost attempt is left behind.
    assert {p for p in blobs_root.rglob("*") if p.is_file()} == before
    monkeypatch.setattr(leases, "complete", real_complete)

    # The attempt is retried after its lease expires and compares with run 0's committed base.
    harness.clock.advance(timedelta(minutes=5))
    second = harness.run_next()
    assert second.state is RunState.COMPLETED, second.error
    assert second.delta_summary is not None
    assert second.delta_summary["regressed"] == 1 and second.delta_summary["baseline"] is False
    assert first.delta_base and second.delta_base and first.delta_base != second.delta_base
    assert harness.blobs.exists(first.delta_base) and harness.blobs.exists(second.delta_base)


def test_a_key_that_does_not_name_one_row_fails_the_run_with_a_clear_message(
    sqlite_db: Database, settings: Settings, tmp_path: Path, make_report: Callable[..., Scheduled]
) -> None:
    body = {**BODY, "delta": {"key": ["FailureHash"], "measure": "SUM(EventCount)"}}
    harness = DeltaHarness.build(sqlite_db, settings, tmp_path, make_report, body)
    harness.add(
        [event(date(2026, 2, 25), A, DriverName="one.sys"), event(date(2026, 2, 25), A, DriverName="two.sys")]
    )
    run = harness.run_next()
    assert run.state is RunState.FAILED
    assert run.error is not None and run.error.startswith("TemplateInvalid:")
    assert "delta.key [FailureHash] does not identify one row" in run.error and "DriverName" in run.error
    assert not [p for p in (tmp_path / "blobs").rglob("*base*") if p.is_file()]


def test_retention_deletes_the_base_and_the_next_run_starts_a_new_baseline(
    sqlite_db: Database, settings: Settings, tmp_path: Path, make_report: Callable[..., Scheduled]
) -> None:
    harness = DeltaHarness.build(sqlite_db, settings, tmp_path, make_report, BODY)
    harness.add(_events(A, 4, date(2026, 2, 25)))
    first = harness.run_next()
    assert first.delta_base and harness.blobs.exists(first.delta_base)
    purge_files(sqlite_db, harness.blobs, harness.clock.now() + timedelta(days=31))
    assert not harness.blobs.exists(first.delta_base)
    with sqlite_db.session() as session:
        assert session.get(Run, first.id).delta_base == ""  # type: ignore[union-attr]
    second = harness.run_next()
    assert second.state is RunState.COMPLETED, second.error
    assert second.delta_summary is not None and second.delta_summary["baseline"] is True
    assert second.delta_summary["reason"] == "the previous run's result was deleted by retention"
