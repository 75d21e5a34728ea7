"""Real worker processes: SIGKILL chaos and a stalled worker, each with a broken variant that is caught.

The workers run the real Worker (planner, claims, leases, renewal, guarded commits, blob store) with a
fast fake engine; ``test_cli_worker_runs_a_real_report`` runs ``driverlens worker`` on real DuckDB.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from driverlens.metadata import Run, RunState
from driverlens.metadata.database import Database
from tests.runs.conftest import Scheduled
from tests.runs.fakes import blob_files

MakeReport = Callable[..., Scheduled]
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@dataclass
class Verdict:
    """What the runs, the journal and the blob store say after a concurrency test."""

    runs: int
    completed: int
    not_terminal: int
    commits: Counter[int]
    stale_commits: list[tuple[int, int]]
    files: set[str]
    locations: set[str]

    @property
    def completed_twice(self) -> int:
        return sum(1 for n in self.commits.values() if n > 1)

    @property
    def stray_files(self) -> int:
        return len(self.files ^ self.locations)

    @property
    def clean(self) -> bool:
        return (
            self.not_terminal == 0
            and self.completed_twice == 0
            and not self.stale_commits
            and self.stray_files == 0
        )

    def line(self, label: str, extra: str = "") -> str:
        return (
            f"{label}: runs={self.runs} completed={self.completed} lost={self.not_terminal} "
            f"completed_twice={self.completed_twice} stale_commits={len(self.stale_commits)} "
            f"files={len(self.files)} stray_files={self.stray_files}{extra}"
        )


def read_journal(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def verdict(db: Database, data_dir: Path, journal: Path) -> Verdict:
    with db.session() as session:
        runs = list(session.scalars(select(Run)))
    events = read_journal(journal)
    commits: Counter[int] = Counter(int(str(e["run"])) for e in events if e["event"] == "committed")
    final_attempt = {r.id: r.attempts for r in runs}
    stale = [
        (int(str(e["run"])), int(str(e["attempt"])))
        for e in events
        if e["event"] == "committed" and int(str(e["attempt"])) < final_attempt.get(int(str(e["run"])), 0)
    ]
    completed = [r for r in runs if r.state is RunState.COMPLETED]
    blobs = data_dir / "blobs"
    return Verdict(
        runs=len(runs),
        completed=len(completed),
        not_terminal=sum(1 for r in runs if not r.state.is_terminal),
        commits=commits,
        stale_commits=stale,
        files=set(blob_files(blobs)) if blobs.exists() else set(),
        locations={r.location for r in completed},
    )


@dataclass
class Fleet:
    """Worker processes sharing one metadata store, blob store and journal."""

    db_url: str
    data_dir: Path
    journal: Path
    args: list[str] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def spawn(self, *extra: str) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "tests.runs.worker_proc", "--db", self.db_url]
        cmd += ["--data-dir", str(self.data_dir), "--journal", str(self.journal), *self.args, *extra]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Callable[[Database, list[str]], Fleet]]:
    made: list[Fleet] = []

    def build(db: Database, args: list[str]) -> Fleet:
        data_dir = tmp_path / "var"
        data_dir.mkdir(exist_ok=True)
        made.append(Fleet(db.url_text, data_dir, tmp_path / "journal.jsonl", args))
        return made[-1]

    yield build
    for f in made:
        f.stop_all()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def run_states(db: Database) -> list[tuple[RunState, int, str | None]]:
    with db.session() as session:
        return [tuple(r) for r in session.execute(select(Run.state, Run.attempts, Run.lease_owner))]  # type: ignore[misc]


def all_terminal(db: Database, expected: int) -> Callable[[], bool]:
    def check() -> bool:
        states = run_states(db)
        return len(states) == expected and all(s.is_terminal for s, _, _ in states)

    return check


def due_reports(db: Database, make_report: MakeReport, reports: int, runs_each: int) -> None:
    """``reports`` reports whose ``runs_each`` runs are all due now (the workers' planners record them)."""
    now = datetime.now(UTC)
    for _ in range(reports):
        make_report(
            db, start=now - timedelta(hours=12 * runs_each), interval=12, recurrence=runs_each, now=now
        )


# -- SIGKILL chaos -------------------------------------------------------------------------------------


def chaos(
    db: Database, fleet: Fleet, runs: int, broken: bool, kills_wanted: int, timeout: float
) -> tuple[Verdict, int, float]:
    started = time.monotonic()
    extra = ["--broken"] if broken else []
    workers = [fleet.spawn(*extra) for _ in range(3)]
    rng = random.Random(7)
    kills = 0
    done = all_terminal(db, runs)
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(rng.uniform(0.2, 0.6))
        if kills < kills_wanted and any(s is RunState.IN_PROGRESS for s, _, _ in run_states(db)):
            victim = rng.randrange(len(workers))
            workers[victim].kill()
            workers[victim].wait()
            kills += 1
            workers[victim] = fleet.spawn(*extra)
    fleet.stop_all()
    return verdict(db, fleet.data_dir, fleet.journal), kills, time.monotonic() - started


def test_sigkill_chaos_loses_nothing_and_does_nothing_twice(
    db: Database, make_report: MakeReport, fleet: Callable[[Database, list[str]], Fleet]
) -> None:
    due_reports(db, make_report, reports=10, runs_each=10)
    result, kills, seconds = chaos(
        db, fleet(db, ["--lease", "1.0", "--fake-seconds", "0.05"]), 100, False, 6, 90
    )
    print(result.line(f"runs chaos {db.dialect_name}", f" kills={kills} seconds={seconds:.1f}"))
    assert kills >= 3
    assert result.runs == 100 and result.not_terminal == 0
    assert result.completed == 100
    assert result.completed_twice == 0 and not result.stale_commits
    assert result.files == result.locations and len(result.files) == 100
    assert result.clean


def test_sigkill_chaos_broken_variant_is_caught(
    db: Database, make_report: MakeReport, fleet: Callable[[Database, list[str]], Fleet]
) -> None:
    # Fewer runs: without the checks the workers fall into lockstep on the same runs within seconds.
    due_reports(db, make_report, reports=3, runs_each=10)
    result, kills, seconds = chaos(
        db, fleet(db, ["--lease", "1.0", "--fake-seconds", "0.05"]), 30, True, 0, 60
    )
    print(result.line(f"runs chaos broken {db.dialect_name}", f" kills={kills} seconds={seconds:.1f}"))
    assert not result.clean, "without lease checks the same runs must be done twice; the test cannot fail"
    assert result.completed_twice > 0


# -- a stalled worker ----------------------------------------------------------------------------------


def tried_commit(fleet: Fleet, pid: int) -> Callable[[], bool]:
    def check() -> bool:
        events = read_journal(fleet.journal)
        return any(e.get("pid") == pid and e["event"] in ("committed", "lease_lost") for e in events)

    return check


def holds_no_write_lock(db: Database) -> bool:
    """True if no connection holds the store's write lock (SQLite) or a run's row lock (PostgreSQL)."""
    if db.is_sqlite:
        connection = sqlite3.connect(str(db.engine.url.database), timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
            return True
        except sqlite3.OperationalError:  # "database is locked"
            return False
        finally:
            connection.close()
    try:
        with db.session() as session:
            session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            session.execute(select(Run.id).with_for_update()).all()
        return True
    except OperationalError:  # LockNotAvailable
        return False


def freeze(proc: subprocess.Popen[bytes], db: Database) -> None:
    """SIGSTOP ``proc`` at a moment it is outside a write transaction.

    A worker writes several times a second (lease renewals, planning, callback claims). Frozen inside
    one, it would hold SQLite's write lock (or the run's row lock) for as long as it is stopped, and no
    other worker could take the run over: the test would time out instead of showing a stalled worker.
    """
    for _ in range(200):
        proc.send_signal(signal.SIGSTOP)
        wait_for(lambda: psutil.Process(proc.pid).status() == psutil.STATUS_STOPPED, 10, "SIGSTOP")
        if holds_no_write_lock(db):
            return
        proc.send_signal(signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError("the worker held a write lock at each of 200 tries to freeze it")


def stall(db: Database, fleet: Fleet, broken: bool) -> Verdict:
    extra = ["--broken"] if broken else []
    go = fleet.data_dir / "second-worker-may-start"
    # The stalled worker's query ends only once it was frozen: a busy machine that delays the test's
    # SIGSTOP cannot let it finish first.
    query_done = fleet.data_dir / "stalled-query-may-end"
    stalled = fleet.spawn("--fake-seconds", "0.5", "--hold-until", str(query_done), *extra)
    fleet.spawn("--fake-seconds", "1.5", "--wait-for", str(go), *extra)
    wait_for(lambda: any(s is RunState.IN_PROGRESS for s, _, _ in run_states(db)), 30, "the first claim")
    freeze(stalled, db)
    (_, attempts, owner) = run_states(db)[0]
    assert attempts == 1 and owner == f"p{stalled.pid}/0"
    go.touch()
    wait_for(lambda: run_states(db)[0][1] == 2, 30, "a second worker to take the expired lease")
    query_done.touch()
    stalled.send_signal(signal.SIGCONT)  # its query is done by now; it tries to commit at once
    wait_for(tried_commit(fleet, stalled.pid), 30, "the stalled worker to try its commit")
    wait_for(all_terminal(db, 1), 30, "the run to finish")
    wait_for(tried_commit(fleet, fleet.procs[1].pid), 30, "the second worker to finish")
    fleet.stop_all()
    return verdict(db, fleet.data_dir, fleet.journal)


def test_stalled_worker_cannot_commit(
    db: Database, make_report: MakeReport, fleet: Callable[[Database, list[str]], Fleet]
) -> None:
    due_reports(db, make_report, reports=1, runs_each=1)
    f = fleet(db, ["--lease", "0.6"])
    result = stall(db, f, broken=False)
    print(result.line(f"runs stall {db.dialect_name}"))
    events = read_journal(f.journal)
    stalled_pid = f.procs[0].pid
    assert [e["event"] for e in events if e.get("pid") == stalled_pid and e["event"] != "started"] == [
        "claimed",
        "lease_lost",
    ]
    assert result.clean and result.completed == 1
    (location,) = result.locations
    assert location.rsplit("/", 1)[1].split("-")[1] == "2" and result.files == {location}


def test_stalled_worker_broken_variant_is_caught(
    db: Database, make_report: MakeReport, fleet: Callable[[Database, list[str]], Fleet]
) -> None:
    due_reports(db, make_report, reports=1, runs_each=1)
    result = stall(db, fleet(db, ["--lease", "0.6"]), broken=True)
    print(result.line(f"runs stall broken {db.dialect_name}"))
    assert not result.clean, "without the lease check the stalled worker's commit must show"
    assert result.stale_commits and result.completed_twice == 1


# -- the real CLI on real DuckDB -----------------------------------------------------------------------


def test_cli_worker_runs_a_real_report_and_stops_on_sigterm(
    sqlite_db: Database, make_report: MakeReport, tmp_path: Path
) -> None:
    from driverlens.events import EventStore, seed_events

    data_dir = tmp_path / "var"
    now = datetime.now(UTC)
    seed_events(EventStore(data_dir), rows=3000, days=10, seed=5, now=now)
    sched = make_report(
        sqlite_db, partner_name="Contoso Graphics", start=now - timedelta(minutes=1), recurrence=1
    )
    env = {
        **os.environ,
        "DRIVERLENS_DATA_DIR": str(data_dir),
        "DRIVERLENS_DATABASE_URL": sqlite_db.url_text,
        "PYTHONPATH": str(ROOT),
    }
    cli = [sys.executable, "-c", "from driverlens.cli.main import app; app()", "worker"]
    proc = subprocess.Popen(
        [*cli, "--concurrency", "2", "--poll-seconds", "0.1", "--lease-seconds", "10"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(all_terminal(sqlite_db, 1), 60, "the report run")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode()
    with sqlite_db.session() as session:
        run = session.scalars(select(Run)).one()
    assert run.state is RunState.COMPLETED, run.error
    path = data_dir / "blobs" / run.location
    assert run.location.startswith(f"reports/{sched.partner.id}/{sched.report.id}/")
    header = path.read_text().splitlines()[0]
    assert header == "DriverName,FailureName,SUM(EventCount)"
    assert run.row_count == len(path.read_text().splitlines()) - 1 > 0
    assert b"stopped" in out
