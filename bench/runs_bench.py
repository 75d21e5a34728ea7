"""Runs benchmark: due small report runs drained by 1 and 2 workers on SQLite, 1, 2 and 4 on PostgreSQL.

Setup (not timed): a metadata store (SQLite file, or a fresh PostgreSQL schema: ``bench/pg.py``) and a
tiny seeded event store in a temporary directory, one partner, 100 reports of 10 due runs each (``BENCH_RUNS``
sets the total, default 1,000), planned up front. Each drain starts real ``driverlens worker`` processes
(real DuckDB engine, local blob store) and stops them once every run has ended. Reported per drain:
runs/s and its ratio to the baseline measured in the same run (one worker on SQLite), per-run
query+upload time, and duplicates (runs attempted more than once, plus any file that is not exactly one
completed run's). Separately, in this process: the mean latency of ``claim`` and of the lease-checked
``complete`` on SQLite (claim overhead per run). Prints a table and one stable line; saves
``bench/results/runs.json``.
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

from bench.pg import postgres_schema
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
RUNS = int(os.environ.get("BENCH_RUNS", "1000"))
REPORTS = max(1, RUNS // 10)
#: (metadata store, worker processes) per drain; the first is the baseline of the ratios.
DRAINS = [("sqlite", 1), ("sqlite", 2), ("postgres", 1), ("postgres", 2), ("postgres", 4)]
EVENT_ROWS = 5000
PARTNER = "Contoso Graphics"
BODY = {
    "view": "IHVDriver",
    "projection": ["DriverName", "FailureName"],
    "dateRange": {"reportPeriod": "Yesterday"},
    "aggregation": {"aggregatedColumns": ["SUM(EventCount)"]},
}


def make_store(url: str, now: datetime) -> Database:
    """A fresh metadata store at ``url`` with REPORTS reports whose RUNS runs are all due (and planned)."""
    db = Database(url)
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


def drain(store: str, workers: int, root: Path, now: datetime) -> dict[str, Any] | None:
    """Time ``workers`` real worker processes draining RUNS due runs on ``store`` (None: unavailable)."""
    if store == "postgres":
        with postgres_schema() as url:
            return None if url is None else _drain(store, url, workers, root, now)
    return _drain(store, f"sqlite:///{root / f'drain-{store}-{workers}' / 'metadata.db'}", workers, root, now)


def _drain(store: str, url: str, workers: int, root: Path, now: datetime) -> dict[str, Any]:
    data_dir = root / f"drain-{store}-{workers}"
    data_dir.mkdir()
    seed_events(EventStore(data_dir), rows=EVENT_ROWS, days=30, seed=1, now=now)
    db = make_store(url, now)
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
        "store": store,
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
    db = make_store(f"sqlite:///{data_dir / 'metadata.db'}", now)
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
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="driverlens-runs-bench-") as tmp:
        root = Path(tmp)
        overhead = claim_overhead(root, now)
        drains = [d for d in (drain(store, n, root, now) for store, n in DRAINS) if d is not None]
    baseline = drains[0]["runs_per_s"] or 1.0
    for figures in drains:
        figures["ratio"] = round((figures["runs_per_s"] or 0.0) / baseline, 2)
    load = [round(x, 1) for x in (*load_before, *os.getloadavg())]
    result = {
        "benchmark": "runs",
        "when": now.isoformat(),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_before_after": load,
        },
        "runs": RUNS,
        "event_rows": EVENT_ROWS,
        **overhead,
        "drains": drains,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'store':<9} {'workers':>7} {'runs/s':>8} {'ratio':>6} {'run ms':>7} {'dup':>4} {'failed':>6}")
    for d in drains:
        print(
            f"{d['store']:<9} {d['workers']:>7} {d['runs_per_s']:>8} {d['ratio']:>6.2f} "
            f"{d['run_ms_median']:>7} {d['duplicates']:>4} {d['failed']:>6}"
        )
    summary = ", ".join(
        f"{d['store']} x{d['workers']} {d['runs_per_s']} runs/s ({d['ratio']:.2f})" for d in drains
    )
    print(
        f"runs: {RUNS} runs; {summary}; "
        f"claim {overhead['claim_ms']} ms + commit {overhead['commit_ms']} ms per run (sqlite); "
        f"duplicates {sum(d['duplicates'] for d in drains)}; failed {sum(d['failed'] for d in drains)}; "
        f"load {load[0]}->{load[3]}"
    )


if __name__ == "__main__":
    main()
