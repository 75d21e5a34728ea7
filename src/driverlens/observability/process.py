"""The metrics of one DriverLens process: its worker's runs, its callback deliveries, its ingests.

Counters are updated by small calls where things happen (the worker's run listener, the callback
dispatcher, the ingest command); the run queue is read from the metadata store at scrape time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Literal

from sqlalchemy.exc import SQLAlchemyError

from driverlens.observability.exposition import GaugeFamily, Registry

if TYPE_CHECKING:
    from driverlens.clock import Clock
    from driverlens.events.store import IngestReport
    from driverlens.metadata import Run
    from driverlens.metadata.database import Database

log = logging.getLogger(__name__)

Role = Literal["api", "worker", "ingest"]
RunListener = Callable[[str, "Run", int], None]

#: Callback latency buckets (seconds): partners answer in milliseconds, the timeout is 10 s.
CALLBACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", "none")
CALLBACK_OUTCOMES = ("delivered", "retry", "gave_up")

#: Worker run events (``RunListener``) and the counter each one moves.
_RUN_EVENTS = {
    "claimed": "claimed",
    "committed": "completed",
    "failed": "failed",
    "abandoned": "failed",
    "retry": "retried",
    "lease_lost": "lease_lost",
    "released": "released",
}


def status_class(status_code: int | None) -> str:
    """``2xx``..``5xx`` for an HTTP answer, ``none`` when no answer came (refused, timed out, reset)."""
    if status_code is None or not 100 <= status_code < 600:
        return "none"
    return f"{status_code // 100}xx" if status_code >= 200 else "none"


class ProcessMetrics:
    """Every counter this process exposes, labelled ``role``; pass it to the parts that count."""

    def __init__(self, role: Role) -> None:
        self.role = role
        self._queue_watched = False
        self.registry = Registry({"role": role})
        r = self.registry
        self.runs = r.counter(
            "driverlens_worker_runs_total",
            "Run events in this process's worker: claimed, completed, failed (for good), retried "
            "(handed back with backoff), lease_lost (another worker took over), released (shutdown).",
            ["event"],
        )
        self.callback_attempts = r.counter(
            "driverlens_callback_attempts_total", "Callback HTTP attempts made by this process."
        )
        self.callback_outcomes = r.counter(
            "driverlens_callback_outcomes_total",
            "Recorded callback attempts by outcome (delivered, retry, gave_up) and HTTP status class.",
            ["outcome", "status_class"],
        )
        self.callback_latency = r.histogram(
            "driverlens_callback_duration_seconds",
            "Duration of callback attempts (connect to last byte read).",
            CALLBACK_BUCKETS,
        )
        self.ingest_rows = r.counter(
            "driverlens_ingest_rows_total",
            "Event rows handed to ingest by outcome: loaded, duplicate (already stored), rejected.",
            ["outcome"],
        )
        self.ingest_batches = r.counter(
            "driverlens_ingest_batches_total",
            "Ingest calls by result: committed (a new table version), already_committed (a re-run), "
            "nothing_new (every row was a duplicate).",
            ["result"],
        )
        self.ingest_conflicts = r.counter(
            "driverlens_ingest_commit_conflicts_total",
            "Commit races an ingest lost to another writer (each retried on top of the winner).",
        )

    # -- worker --------------------------------------------------------------------------------------

    def run_listener(self, inner: RunListener | None = None) -> RunListener:
        """A worker ``RunListener`` that counts each event, then calls ``inner``."""
        for counted in sorted(set(_RUN_EVENTS.values())):
            self.runs.touch(event=counted)

        def listen(event: str, run: Run, attempt: int) -> None:
            counted = _RUN_EVENTS.get(event)
            if counted is not None:
                self.runs.inc(event=counted)
            if inner is not None:
                inner(event, run, attempt)

        return listen

    def watch_queue(self, db: Database, clock: Clock) -> None:
        """Expose the run queue per partner, read from ``db`` at every scrape (one grouped query).

        Once per process: ``serve`` watches it for the API and its in-process worker alike.
        """
        if self._queue_watched:
            return
        self._queue_watched = True
        self.registry.collector(lambda: queue_gauges(db, clock))

    # -- callbacks -----------------------------------------------------------------------------------

    def callback_attempt(self, seconds: float) -> None:
        self.callback_attempts.inc()
        self.callback_latency.observe(seconds)

    def callback_outcome(self, outcome: str, status_code: int | None) -> None:
        self.callback_outcomes.inc(outcome=outcome, status_class=status_class(status_code))

    # -- ingest --------------------------------------------------------------------------------------

    def ingested(self, report: IngestReport) -> None:
        self.ingest_rows.inc(report.loaded, outcome="loaded")
        self.ingest_rows.inc(report.duplicates, outcome="duplicate")
        self.ingest_rows.inc(report.rejected, outcome="rejected")
        if report.already_committed:
            result = "already_committed"
        elif report.version is None:
            result = "nothing_new"
        else:
            result = "committed"
        self.ingest_batches.inc(result=result)
        self.ingest_conflicts.inc(report.conflicts)

    def render(self) -> str:
        return self.registry.render()


def queue_gauges(db: Database, clock: Clock) -> Iterable[GaugeFamily]:
    """Queue depth and oldest-due age per partner, plus whether the store could be read at all."""
    from driverlens.metadata.repositories import run_queue

    now = clock.now()
    depth = GaugeFamily(
        "driverlens_run_queue_depth",
        "Runs waiting for a worker now (due Pending, or In Progress with an expired lease), per partner.",
    )
    age = GaugeFamily(
        "driverlens_run_queue_oldest_age_seconds",
        "How long the partner's oldest waiting run has been claimable.",
    )
    up = GaugeFamily("driverlens_run_queue_up", "1 when the run queue could be read at this scrape, else 0.")
    try:
        with db.session() as session:
            queues = run_queue.due_by_partner(session, now)
    except SQLAlchemyError as exc:
        log.warning("metrics: the run queue could not be read: %s", exc)
        up.samples.append(({}, 0))
        return [up]
    for queue in queues:
        labels = {"partner": queue.partner}
        depth.samples.append((labels, queue.depth))
        age.samples.append((labels, max(0.0, (now - queue.oldest_due).total_seconds())))
    up.samples.append(({}, 1))
    return [depth, age, up]
