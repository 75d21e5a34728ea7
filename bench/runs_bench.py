"""Runs benchmark: 1,000 due small report runs drained by one and by two ``driverlens worker`` processes.

Setup (not timed): a SQLite metadata store and a tiny seeded event store in a temporary directory, one
partner, 100 reports of 10 due runs each, planned up front. Each drain starts real worker processes
(real DuckDB engine, local blob store) and stops them once every run has ended. Reported per drain:
runs/s, per-run query+upload time, and duplicates (runs attempted more than once, plus any file that
is not exactly one completed run's). Separately, in this process: the mean latency of ``claim`` and of
the lease-checked ``complete`` over 1,000 runs (claim overhead per run).
Prints one stable line; saves ``bench/results/runs.json``.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from driverlens.catalog import PartnerKind
from driverlens.events import EventStore, seed_events
from driverlens.metadata import Run, RunState
from driverlens.metadata.database import Database
from driverlens.metadata.migrate import migrate_database
from driverlens.metadata.repositories import Entitlements, partners, reports, templates
from driverlens.runs import leases
from driverlens.runs.planner import plan_due_runs
from driverlens.runs.states import Outcome

RESULTS = Path(__file__).resolve().parent / "results" / "runs.json"
RUNS = 1000
REPORTS = 100
EVENT_ROWS = 5000
PARTNER = "Contoso Graphics"
BODY = {
    "view": "IHVDriver",
    "projection": ["DriverName", "FailureName"],
    "dateRange": {"reportPeriod": "Yesterday"},
    "aggregation": {"aggregatedColumns": ["SUM(EventCount)"]},
}


def make_store(root: Path, now: datetime) -> Database:
    """A fresh metadata store with REPORTS reports whose RUNS runs are all due (and planned)."""
    db = Database(f"sqlite:///{root / 'metadata.db'}")
    migrate_database(db)
    runs_each = RUNS // REPORTS
    with db.session() as session:
        partner = partners.add_partner(
            session, name=PARTNER, kind=PartnerKind.IHV, now=now, entitlements=Entitlements((), (), ())
        )
        template = templates.create_template(session, partner_id=partner.id, body=BODY, now=now)
        for _ in range(REPORTS):
            reports.create_report(
                session, partner_id=partner.id, template_id=template.id, now=now,
                start_time=now - timedelta(hours=12 * runs_each), interval_hours=12, recurrence=runs_each,
            )  # fmt: skip
    planned = plan_due_runs(db, now)
    if planned != RUNS:
        raise RuntimeError(f"planned {planned} runs, expected {RUNS}")
    return db


def drain(workers: int, root: Path, now: datetime) -> dict[str, Any]:
    """Time ``workers`` real worker processes draining RUNS due runs."""
    data_dir = root / f"drain-{workers}"
    data_dir.mkdir()
    seed_events(EventStore(data_dir), rows=EVENT_ROWS, days=30, seed=1, now=now)
    db = make_store(data_dir, now)
    env = {
        **os.environ,
        "DRIVERLENS_DATA_DIR": str(data_dir),
        "DRIVERLENS_DATABASE_URL": db.url_text,
        "DRIVERLENS_ENGINE_THREADS": "1",
    }
    cmd = [sys.executable, "-c", "from driverlens.cli.main import app; app()", "worker"]
    cmd += ["--poll-seconds", "0.05", "--lease-seconds", "60"]
    procs = [
        subprocess.Popen(cmd, env=env, cwd=data_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        while True:
            with db.session() as session:
                open_runs = session.scalar(
                    select(Run.id).where(Run.state.in_([RunState.PENDING, RunState.IN_PROGRESS])).limit(1)
                )
            if open_runs is None:
                break
            time.sleep(0.1)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(60)
    with db.session() as session:
        runs = list(session.scalars(select(Run)))
    db.dispose()
    first_start = min(r.started_at for r in runs if r.started_at is not None)
    last_finish = max(r.finished_at for r in runs if r.finished_at is not None)
    seconds = (last_finish - first_start).total_seconds()
    completed = [r for r in runs if r.state is RunState.COMPLETED]
    files = {
        p.relative_to(data_dir / "blobs").as_posix() for p in (data_dir / "blobs").rglob("*") if p.is_file()
    }
    locations = {r.location for r in completed}
    exec_ms = [
        (r.finished_at - r.started_at).total_seconds() * 1000
        for r in completed
        if r.finished_at is not None and r.started_at is not None
    ]
    return {
        "workers": workers,
        "runs": len(runs),
        "completed": len(completed),
        "failed": sum(1 for r in runs if r.state is RunState.FAILED),
        "seconds": round(seconds, 3),
        "runs_per_s": round(len(runs) / seconds, 1) if seconds else None,
        "run_ms_median": round(statistics.median(exec_ms), 2) if exec_ms else None,
        "duplicates": sum(1 for r in runs if r.attempts != 1) + len(files ^ locations),
    }


def claim_overhead(root: Path, now: datetime) -> dict[str, float]:
    """Mean latency of claim and of the lease-checked complete, in this process, over RUNS runs."""
    data_dir = root / "claims"
    data_dir.mkdir()
    db = make_store(data_dir, now)
    claim_s: list[float] = []
    commit_s: list[float] = []
    outcome = Outcome(row_count=1, bytes=1, sha256="0" * 64, location="", format="csv")
    while True:
        t0 = time.perf_counter()
        run = leases.claim(db, "bench", now, 60)
        t1 = time.perf_counter()
        if run is None:
            break
        leases.complete(db, run.id, "bench", now, outcome, attempt=run.attempts)
        claim_s.append(t1 - t0)
        commit_s.append(time.perf_counter() - t1)
    db.dispose()
    if len(claim_s) != RUNS:
        raise RuntimeError(f"claimed {len(claim_s)} runs, expected {RUNS}")
    return {
        "claim_ms": round(statistics.mean(claim_s) * 1000, 3),
        "commit_ms": round(statistics.mean(commit_s) * 1000, 3),
    }


def main() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="driverlens-runs-bench-") as tmp:
        root = Path(tmp)
        overhead = claim_overhead(root, now)
        drains = [drain(1, root, now), drain(2, root, now)]
    result = {
        "benchmark": "runs",
        "when": now.isoformat(),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "metadata_store": "sqlite",
        "runs": RUNS,
        "event_rows": EVENT_ROWS,
        **overhead,
        "drains": drains,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    one, two = drains
    print(
        f"runs: {RUNS} runs sqlite; 1 worker {one['runs_per_s']} runs/s, "
        f"2 workers {two['runs_per_s']} runs/s; "
        f"claim {overhead['claim_ms']} ms + commit {overhead['commit_ms']} ms per run; "
        f"run median {one['run_ms_median']} ms; duplicates {one['duplicates'] + two['duplicates']}; "
        f"failed {one['failed'] + two['failed']}"
    )


if __name__ == "__main__":
    main()
