"""The worker: plans due runs, claims them with leases, runs them, delivers callbacks, purges old files.

Any number of worker processes (each with ``concurrency`` run slots) may share a metadata store; there
is no leader. Stop with :meth:`Worker.stop` (SIGTERM in the CLI): no new claims; runs in hand finish
within the grace period or are handed back (Pending, no owner) for another worker.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import socket
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from driverlens.blobs.backend import blob_store_from_settings
from driverlens.blobs.store import BlobStore
from driverlens.callbacks.dispatcher import CALLBACK_POLICY
from driverlens.clock import Clock, SystemClock
from driverlens.engines import Engine
from driverlens.metadata import Run
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import runs as runs_repo
from driverlens.observability import ProcessMetrics
from driverlens.observability.logs import run_context
from driverlens.retry import RetryPolicy
from driverlens.runs import leases
from driverlens.runs.execution import CallbackSink, RunExecutor, RunListener, enqueue_notice
from driverlens.runs.failures import RUN_POLICY
from driverlens.runs.planner import plan_due_runs
from driverlens.runs.retention import PurgeableEvents, purge
from driverlens.settings import Settings

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(days=1)
# Compaction of the event table: often enough that a day of small ingests stays a few files.
COMPACT_EVERY = timedelta(minutes=10)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class WorkerOptions:
    lease_s: float = 60.0
    poll_s: float = 1.0
    grace_s: float = 20.0
    purge: bool = True
    compact: bool = True


class Worker:
    """``concurrency`` run slots plus one housekeeping loop (planning, callbacks, retention)."""

    def __init__(
        self,
        db: Database,
        engine: Engine,
        blobs: BlobStore,
        settings: Settings,
        clock: Clock | None = None,
        worker_id: str | None = None,
        concurrency: int = 1,
        *,
        options: WorkerOptions | None = None,
        callbacks: CallbackSink | None = None,
        events: PurgeableEvents | None = None,
        retry: RetryPolicy = RUN_POLICY,
        listener: RunListener | None = None,
        metrics: ProcessMetrics | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.db, self.settings = db, settings
        self.clock: Clock = clock or SystemClock()
        self.worker_id = worker_id or new_worker_id()
        self.concurrency = concurrency
        self.options = options or WorkerOptions()
        self.callbacks = callbacks
        self.events = events
        self.blobs = blobs
        self.metrics = metrics
        if metrics is not None:
            listener = metrics.run_listener(listener)
            metrics.watch_queue(db, self.clock)
        self.listener = listener
        self.tmp_dir = settings.data_dir / "tmp" / f"worker-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.executor = RunExecutor(
            db=db,
            engine=engine,
            blobs=blobs,
            clock=self.clock,
            tmp_dir=self.tmp_dir,
            timeout_s=settings.query_timeout_seconds,
            lease_s=self.options.lease_s,
            retry=retry,
            callbacks=callbacks,
            listener=listener,
            rng=random.Random(),
            max_stored_bytes=settings.partner_max_stored_bytes,
            neutralise_formulas=not settings.raw_csv_cells,
        )
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._in_hand: dict[str, Run] = {}
        self._lock = threading.Lock()
        self._last_purge: datetime | None = None
        self._last_compact: datetime | None = None
        self._maintenance: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the slots and the housekeeping loop in background threads."""
        remove_orphan_tmp_dirs(self.tmp_dir.parent)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        targets = [(self._housekeeping_loop, "housekeeping")]
        targets += [(self._slot_loop, f"slot-{n}") for n in range(self.concurrency)]
        for target, name in targets:
            thread = threading.Thread(target=target, name=f"driverlens-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("worker %s started with %d slots", self.worker_id, self.concurrency)

    def request_stop(self) -> None:
        """Stop claiming (safe to call from a signal handler)."""
        self._stopping.set()

    def stop(self, grace_s: float | None = None) -> None:
        """Stop claiming, wait for runs in hand up to the grace period, then hand back the rest."""
        self._stopping.set()
        grace = self.options.grace_s if grace_s is None else grace_s
        deadline = threading.Event()
        timer = threading.Timer(grace, deadline.set)
        timer.start()
        try:
            for thread in self._threads:
                while thread.is_alive() and not deadline.is_set():
                    thread.join(0.05)
        finally:
            timer.cancel()
        self._release_in_hand()
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        log.info("worker %s stopped", self.worker_id)

    def run_forever(self) -> None:
        """Start, then block until :meth:`request_stop` (or SIGTERM), then stop gracefully."""
        self.start()
        while not self._stopping.wait(0.5):
            pass
        self.stop()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _release_in_hand(self) -> None:
        with self._lock:
            in_hand = list(self._in_hand.items())
        for slot_id, run in in_hand:
            try:
                released = leases.release(self.db, run.id, slot_id, self.clock.now(), attempt=run.attempts)
            except SQLAlchemyError as exc:
                log.warning("run %s could not be handed back (%s); its lease will expire", run.id, exc)
                continue
            if released:
                log.info("run %s handed back for another worker", run.id)
                if self.listener is not None:
                    self.listener("released", run, run.attempts)

    # -- loops ---------------------------------------------------------------------------------------

    def _slot_loop(self) -> None:
        slot_id = f"{self.worker_id}/{threading.current_thread().name.rsplit('-', 1)[-1]}"
        while not self._stopping.is_set():
            try:
                worked = self.run_one(slot_id)
            except Exception:  # keep the slot alive; the run's lease expires and another attempt follows
                log.exception("worker slot %s: unexpected error", slot_id)
                worked = False
            if not worked:
                self._stopping.wait(self.options.poll_s)

    def run_one(self, slot_id: str | None = None) -> bool:
        """Claim and run one run; False if there was nothing to claim."""
        slot_id = slot_id or self.worker_id
        run = leases.claim(
            self.db, slot_id, self.clock.now(), self.options.lease_s, on_failed=self._abandoned
        )
        if run is None:
            return False
        if self.listener is not None:
            self.listener("claimed", run, run.attempts)
        with self._lock:
            self._in_hand[slot_id] = run
        try:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            with run_context(run.id, run.report_id):
                self.executor.execute(run, slot_id)
        finally:
            with self._lock:
                self._in_hand.pop(slot_id, None)
        return True

    def _abandoned(self, session: Session, run: Run) -> None:
        """A run whose workers kept dying was failed during a claim: announce it like any failure."""
        log.warning("run %s failed: %s", run.id, run.error)
        if self.listener is not None:
            self.listener("abandoned", run, run.attempts)
        found = runs_repo.report_and_partner(session, run.report_id)
        if found is None or self.callbacks is None:
            return
        report, partner = found
        if report.callback_url:
            enqueue_notice(self.callbacks, session, run, report.callback_url, partner.callback_secret)

    def _housekeeping_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.housekeeping()
            except Exception:  # a failed tick is retried on the next one
                log.exception("worker %s: housekeeping failed", self.worker_id)
            self._stopping.wait(self.options.poll_s)

    def housekeeping(self) -> None:
        """One tick: plan due runs, deliver due callbacks, purge once a day."""
        now = self.clock.now()
        planned = plan_due_runs(self.db, now, max_catch_up=self.settings.max_catch_up_runs)
        if planned:
            log.info("planned %d due runs", planned)
        if self.callbacks is not None:
            self.callbacks.dispatch_due(self.db, now)
        if self.options.purge and (self._last_purge is None or now - self._last_purge >= PURGE_EVERY):
            self._last_purge = now
            self.purge(now)
        due = self._last_compact is None or now - self._last_compact >= COMPACT_EVERY
        if self.options.compact and self.events is not None and due:
            self._last_compact = now
            self._start_compaction()

    def _start_compaction(self) -> None:
        """Compact the event table in its own thread, so planning and callbacks never wait for it."""
        if self._maintenance is not None and self._maintenance.is_alive():
            return
        events = self.events
        if events is None:
            return

        def compact() -> None:
            try:
                compacted = events.compact()
                if compacted:
                    log.info("compacted %d day partitions of the event table", compacted)
            except Exception:  # retried at the next interval; a report never depends on it
                log.exception("worker %s: compaction of the event table failed", self.worker_id)

        self._maintenance = threading.Thread(target=compact, name="driverlens-compaction", daemon=True)
        self._maintenance.start()

    def purge(self, now: datetime) -> None:
        """The daily retention hook (``driverlens purge``): events after 90 days, files after 30."""
        purge(
            self.db,
            self.blobs,
            self.events,
            now,
            event_retention_days=self.settings.event_retention_days,
            file_retention_days=self.settings.file_retention_days,
        )


def remove_orphan_tmp_dirs(root: Path) -> None:
    """Delete temp dirs of worker processes on this host that no longer exist (killed mid-run)."""
    if not root.is_dir():
        return
    for entry in root.iterdir():
        parts = entry.name.split("-")
        if len(parts) != 3 or parts[0] != "worker" or not parts[1].isdigit():
            continue
        try:
            os.kill(int(parts[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:  # alive, owned by someone else
            continue


@dataclass
class WorkerHandle:
    """An in-process worker started beside ``driverlens serve``."""

    worker: Worker

    def stop(self) -> None:
        self.worker.stop()
        self.worker.db.dispose()


def build_worker(
    settings: Settings,
    *,
    concurrency: int = 1,
    options: WorkerOptions | None = None,
    clock: Clock | None = None,
    metrics: ProcessMetrics | None = None,
) -> Worker:
    """A worker on the settings' metadata store, event store, report engine and blob store."""
    from driverlens.engines.factory import engine_for
    from driverlens.events import event_store
    from driverlens.metadata.migrate import migrate_database

    db = Database(settings.metadata_url)
    migrate_database(db)
    events = event_store(settings)
    return Worker(
        db,
        engine_for(settings, events),
        blob_store_from_settings(settings, clock),
        settings,
        clock,
        concurrency=concurrency,
        options=options,
        callbacks=default_callbacks(settings, clock, metrics),
        events=events,
        metrics=metrics,
    )


def default_callbacks(
    settings: Settings, clock: Clock | None = None, metrics: ProcessMetrics | None = None
) -> CallbackSink:
    """The callbacks dispatcher: SSRF guard from the settings, notices pointing at the public URL."""
    from driverlens.callbacks import CallbackGuard
    from driverlens.callbacks.dispatcher import Dispatcher

    guard = CallbackGuard.from_setting(settings.callback_allowed_networks)
    return Dispatcher(
        guard,
        public_base_url=settings.public_base_url,
        clock=clock or SystemClock(),
        policy=callback_retry(settings),
        metrics=metrics,
    )


def callback_retry(settings: Settings) -> RetryPolicy:
    """The callback retry policy: CALLBACK_POLICY's shape with the operator's attempt count and cap."""
    cap = settings.callback_max_delay_seconds
    return replace(
        CALLBACK_POLICY,
        max_attempts=settings.callback_max_attempts,
        # A cap below the first delay (the setting allows 1 s) shortens that delay too, instead of
        # refusing to start.
        base_delay_s=min(CALLBACK_POLICY.base_delay_s, cap),
        max_delay_s=cap,
    )


def start_in_process_worker(
    settings: Settings, *, concurrency: int = 1, metrics: ProcessMetrics | None = None
) -> WorkerHandle:
    """Start a worker in background threads of this process (for ``driverlens serve``)."""
    worker = build_worker(settings, concurrency=concurrency, metrics=metrics)
    worker.start()
    return WorkerHandle(worker)
