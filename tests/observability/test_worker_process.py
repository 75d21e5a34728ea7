"""`driverlens worker --metrics-port` as its own OS process: scrape its /metrics over HTTP while it runs
real reports (DuckDB) and delivers real callbacks to a local receiver; its JSON log names the runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from driverlens.events import EventStore, seed_events
from driverlens.metadata import Run, RunState
from driverlens.metadata.database import Database
from tests.api.server import free_port
from tests.callbacks.conftest import Receiver, Reply
from tests.observability.capture import value
from tests.runs.conftest import Scheduled

MakeReport = Callable[..., Scheduled]


class WorkerProcess:
    def __init__(self, data_dir: Path, db: Database, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.out, self.err = data_dir / "worker.out", data_dir / "worker.err"
        env = {
            **os.environ,
            "DRIVERLENS_DATA_DIR": str(data_dir),
            "DRIVERLENS_DATABASE_URL": db.url_text,
            "DRIVERLENS_CALLBACK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "DRIVERLENS_CALLBACK_MAX_DELAY_SECONDS": "1",
            # The first run's file uses the partner's whole allowance: the second run fails (quota).
            "DRIVERLENS_PARTNER_MAX_STORED_BYTES": "1",
            "DRIVERLENS_LOG_FORMAT": "json",
        }
        command = [sys.executable, "-m", "driverlens", "worker", "--metrics-port", str(port)]
        command += ["--poll-seconds", "0.1", "--grace-seconds", "5"]
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=err)

    def scrape(self) -> str | None:
        if self.process.poll() is not None:
            raise AssertionError(
                f"worker exited with {self.process.returncode}: {self.err.read_text()[-3000:]}"
            )
        try:
            response = httpx.get(self.url + "/metrics", timeout=5)
        except httpx.TransportError:
            return None  # not listening yet
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        return response.text

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=5)


@pytest.fixture
def worker_process(settings: object, tmp_path: Path, db: Database) -> Iterator[Callable[[], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        started.append(WorkerProcess(tmp_path / "var", db, free_port()))
        return started[-1]

    yield start
    for proc in started:
        proc.stop()


def wait_for(scrape: Callable[[], str | None], done: Callable[[str], bool], timeout_s: float = 120) -> str:
    deadline = time.monotonic() + timeout_s
    text = None
    while time.monotonic() < deadline:
        text = scrape()
        if text is not None and done(text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"metrics never reached the expected figures:\n{text}")


def test_scrape_a_standalone_worker(
    db: Database, tmp_path: Path, make_report: MakeReport, receiver: Receiver,
    worker_process: Callable[[], WorkerProcess],
) -> None:  # fmt: skip
    now = datetime.now(UTC)
    seed_events(EventStore(tmp_path / "var"), rows=2000, days=20, seed=5, now=now)
    sched = make_report(
        db, partner_name="Contoso Graphics", recurrence=2, interval=1, start=now - timedelta(hours=3),
        callback_url=receiver.url, now=now,
    )  # fmt: skip
    receiver.replies += [Reply(500)]  # the first notice is retried once, then both are delivered
    worker = worker_process()

    def finished(text: str) -> bool:
        return value(text, "driverlens_callback_outcomes_total", outcome="delivered", status_class="2xx") == 2

    text = wait_for(worker.scrape, finished)
    runs = {
        event: value(text, "driverlens_worker_runs_total", role="worker", event=event)
        for event in ("claimed", "completed", "failed", "retried", "lease_lost")
    }
    assert runs == {"claimed": 2, "completed": 1, "failed": 1, "retried": 0, "lease_lost": 0}
    assert value(text, "driverlens_callback_outcomes_total", outcome="retry", status_class="5xx") == 1
    assert value(text, "driverlens_callback_attempts_total", role="worker") == 3
    assert value(text, "driverlens_callback_duration_seconds_count", role="worker") == 3
    assert value(text, "driverlens_run_queue_up", role="worker") == 1
    assert value(text, "driverlens_run_queue_depth", partner="Contoso Graphics") is None  # nothing waits
    assert len(receiver.received) == 3
    assert httpx.get(worker.url + "/healthz", timeout=5).status_code == 200
    assert httpx.get(worker.url + "/other", timeout=5).status_code == 404
    assert worker.stop() == 0

    with db.session() as session:
        ended = {r.state: r for r in session.scalars(select(Run).where(Run.report_id == sched.report.id))}
    assert set(ended) == {RunState.COMPLETED, RunState.FAILED}
    lines = [json.loads(line) for line in worker.err.read_text().splitlines()]  # every line is JSON
    assert lines and all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    for state, word in ((RunState.COMPLETED, "completed"), (RunState.FAILED, "failed")):
        run = ended[state]
        said = [ln for ln in lines if ln.get("runId") == run.id and word in ln["message"]]
        assert said and all(ln["reportId"] == sched.report.id for ln in said), lines
    assert not any("trackingId" in line for line in lines)  # no request, no request id
    assert "metrics at http://127.0.0.1:" in worker.out.read_text()


def test_a_busy_metrics_port_is_refused_with_advice(tmp_path: Path, db: Database, settings: object) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = WorkerProcess(tmp_path / "var", db, busy.getsockname()[1])
        assert proc.process.wait(timeout=60) == 1
    assert "choose another --metrics-port" in proc.err.read_text()
