"""A worker process for the concurrency tests: the real Worker, with a fast fake engine by default.

Run as ``python -m tests.runs.worker_proc --db URL --data-dir DIR --journal FILE [...]``. Every run event
(claimed, committed, lease_lost, ...) is appended to the journal as one JSON line, so the test can
count commits per run. ``--broken`` switches the lease checks off (the deliberately broken variant).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from pathlib import Path
from types import FrameType

from driverlens.blobs.store import LocalBlobStore
from driverlens.clock import SystemClock
from driverlens.engines import DuckDBEngine, Engine
from driverlens.events import EventStore
from driverlens.metadata import Run
from driverlens.metadata.database import Database
from driverlens.runs import leases
from driverlens.runs.worker import Worker, WorkerOptions
from driverlens.settings import Settings
from tests.runs.fakes import FakeEngine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--journal", required=True, type=Path)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--poll", type=float, default=0.05)
    parser.add_argument("--fake-seconds", type=float, default=0.1)
    parser.add_argument("--real-engine", action="store_true")
    parser.add_argument("--broken", action="store_true")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--wait-for", type=Path, help="start working only once this file exists")
    parser.add_argument("--hold-until", type=Path, help="fake queries last until this file exists")
    args = parser.parse_args()

    if args.broken:
        leases.CHECK_LEASES = False
    settings = Settings(data_dir=args.data_dir)
    db = Database(args.db)
    fake = FakeEngine(args.fake_seconds, hold_until=args.hold_until)
    engine: Engine = DuckDBEngine(EventStore(args.data_dir)) if args.real_engine else fake
    fd = os.open(args.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    pid = os.getpid()

    def listener(event: str, run: Run, attempt: int) -> None:
        line = {"event": event, "run": run.id, "attempt": attempt, "pid": pid, "location": run.location}
        os.write(fd, (json.dumps(line) + "\n").encode())

    worker = Worker(
        db,
        engine,
        LocalBlobStore(args.data_dir / "blobs"),
        settings,
        SystemClock(),
        f"p{pid}",
        args.concurrency,
        options=WorkerOptions(lease_s=args.lease, poll_s=args.poll, grace_s=2.0, purge=False),
        listener=listener,
    )

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        worker.request_stop()

    signal.signal(signal.SIGTERM, on_term)
    os.write(fd, (json.dumps({"event": "started", "pid": pid, "t": time.time()}) + "\n").encode())
    while args.wait_for is not None and not args.wait_for.exists() and not worker.stopping:
        time.sleep(0.02)  # started early so that the test does not wait for the interpreter to boot
    worker.run_forever()
    db.dispose()


if __name__ == "__main__":
    main()
