"""Executing one claimed run: template version -> compiled query -> engine -> blob -> guarded commit."""

from __future__ import annotations

import contextvars
import logging
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import duckdb
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from driverlens.blobs.store import BlobStore
from driverlens.clock import Clock
from driverlens.compiler import CompiledQuery, DataWindow, Scope, compile_template
from driverlens.compiler.spreadsheet import neutralise_formulas
from driverlens.engines import Engine, OutputFormat
from driverlens.errors import DriverLensError, QueryTimeout, ValidationFailed
from driverlens.metadata import Partner, Report, Run
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import runs as runs_repo
from driverlens.retry import RetryPolicy
from driverlens.runs import leases
from driverlens.runs.delta import DeltaKeyNotUnique, DeltaRun, base_key_of
from driverlens.runs.delta import plan as plan_delta_of
from driverlens.runs.failures import (
    RUN_POLICY,
    RunErrorCode,
    exhausted,
    query_rejected,
    query_timeout,
    stored,
    temporary,
    tracking_id,
)
from driverlens.runs.quotas import storage_message, stored_bytes
from driverlens.runs.schedule import run_window
from driverlens.runs.states import LeaseLost, Outcome
from driverlens.templates import parse_template

log = logging.getLogger(__name__)

#: Failures worth another attempt: the engine or the disk hiccupped, the metadata store was busy.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, duckdb.Error, SQLAlchemyError)


class CallbackSink(Protocol):
    """Where finished runs announce themselves (``driverlens.callbacks``' dispatcher is one)."""

    def enqueue(self, session: Session, run: Run, url: str, partner_secret: str) -> object: ...

    def dispatch_due(self, db: Database, now: datetime) -> object: ...


#: Observer of run events (``claimed``, ``committed``, ``lease_lost``, ``failed``, ``retry``, ``released``),
#: called with the run as stored after the event and the attempt number this worker was running.
RunListener = Callable[[str, Run, int], None]


@dataclass(frozen=True)
class RunContext:
    """Everything a run needs, read once at the start of the attempt."""

    report: Report
    partner: Partner
    body: dict[str, object]

    @property
    def callback_url(self) -> str | None:
        return self.report.callback_url or None


def enqueue_notice(sink: CallbackSink, session: Session, run: Run, url: str, secret: str) -> None:
    """Queue the run's callback in the run's own transaction; a bad notice never undoes the run."""
    try:
        with session.begin_nested():
            sink.enqueue(session, run, url, secret)
    except (DriverLensError, ValueError, SQLAlchemyError) as exc:
        log.error("run %s: callback notice to %s could not be queued: %s", run.id, url, exc)


def blob_key(partner_id: int, report_id: int, run_id: int, attempt: int, fmt: OutputFormat) -> str:
    """Each attempt writes its own key, so a stale attempt can never overwrite a newer one's file.

    The random part makes the name unguessable: knowing the ids is not enough to name a file, so a leaked
    link key alone does not open every partner's reports.
    """
    return f"{attempt_prefix(partner_id, report_id, run_id, attempt)}{secrets.token_hex(16)}.{fmt.extension}"


def attempt_prefix(partner_id: int, report_id: int, run_id: int, attempt: int) -> str:
    return f"reports/{partner_id}/{report_id}/{run_id}-{attempt}-"


def load_context(db: Database, run: Run) -> RunContext:
    with db.session() as session:
        report, partner, body = runs_repo.run_context(session, run.report_id, run.template_version)
    return RunContext(report=report, partner=partner, body=body)


def compile_run(
    context: RunContext, run: Run, *, spreadsheet_safe: bool = False
) -> tuple[CompiledQuery, DataWindow]:
    """Compile the claimed template version for the run's window (from its due time) and partner scope.

    ``spreadsheet_safe`` prefixes text cells that start like a formula with ``'`` (for CSV and TSV).
    """
    template = parse_template(context.body)
    window = run_window(template.report_period, run.due_at)
    scope = Scope(context.partner.kind, context.partner.name)
    query = compile_template(template, scope, window, report_id=context.report.id)
    if spreadsheet_safe:
        query = neutralise_formulas(query, template)
    return query, window


def plan_delta(
    db: Database, context: RunContext, run: Run, window: DataWindow, key: str, *, spreadsheet_safe: bool
) -> DeltaRun | None:
    """The delta part of the run (its base next to the report file), None for other reports."""
    template = parse_template(context.body)
    scope = Scope(context.partner.kind, context.partner.name)
    return plan_delta_of(
        db,
        template,
        scope,
        window,
        context.report.id,
        run,
        base_key_of(key),
        spreadsheet_safe=spreadsheet_safe,
    )


class LeaseKeeper:
    """Renews a run's lease in a background thread while the query runs."""

    def __init__(self, db: Database, run: Run, worker_id: str, clock: Clock, lease_s: float) -> None:
        self._db, self._run, self._worker_id, self._clock, self._lease_s = db, run, worker_id, clock, lease_s
        self._stop = threading.Event()
        self.lost = threading.Event()
        # In the run's logging context (its run and report ids), which a new thread would not inherit.
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._loop,), name=f"lease-{run.id}", daemon=True
        )

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._lease_s / 3):
            try:
                held = leases.renew(self._db, self._run.id, self._worker_id, self._clock.now(), self._lease_s)
            except SQLAlchemyError as exc:  # a busy store: try again next tick, the lease has slack
                log.warning("run %s: lease renewal failed: %s", self._run.id, exc)
                continue
            if not held:
                log.warning("run %s: lease lost to another worker", self._run.id)
                self.lost.set()
                return


@dataclass
class RunExecutor:
    """Runs one claimed run to a committed result (or a retry, or a final failure)."""

    db: Database
    engine: Engine
    blobs: BlobStore
    clock: Clock
    tmp_dir: Path
    timeout_s: float
    lease_s: float
    retry: RetryPolicy = RUN_POLICY
    callbacks: CallbackSink | None = None
    listener: RunListener | None = None
    rng: random.Random | None = None
    max_stored_bytes: int | None = None
    neutralise_formulas: bool = True

    def _notify(self, event: str, run: Run, attempt: int) -> None:
        if self.listener is not None:
            self.listener(event, run, attempt)

    def _after_end(self, context: RunContext) -> leases.AfterCommit:
        def enqueue(session: Session, run: Run) -> None:
            if context.callback_url is None:
                return
            if self.callbacks is None:
                log.info("run %s ended; no callback dispatcher configured, notice not queued", run.id)
                return
            enqueue_notice(
                self.callbacks, session, run, context.callback_url, context.partner.callback_secret
            )

        return enqueue

    def execute(self, run: Run, worker_id: str) -> None:
        """Run ``run`` (claimed by ``worker_id``); never raises for the run's own failures."""
        attempt = run.attempts
        try:
            context = load_context(self.db, run)
        except TRANSIENT_ERRORS as exc:
            self._transient(run, worker_id, attempt, None, exc)
            return
        try:
            fmt = OutputFormat.parse(run.format or context.report.output_format)
            safe = self.neutralise_formulas and fmt.opens_in_spreadsheets
            query, window = compile_run(context, run, spreadsheet_safe=safe)
        except (DriverLensError, ValueError) as exc:
            message = template_problem(exc, context.report.template_id)
            self._fail(run, worker_id, attempt, context, RunErrorCode.TEMPLATE_INVALID, message, exc)
            return
        if self.max_stored_bytes is not None:
            with self.db.session() as session:
                used = stored_bytes(session, context.partner.id)
            if used >= self.max_stored_bytes:
                message = storage_message(used, self.max_stored_bytes)
                self._fail(run, worker_id, attempt, context, RunErrorCode.STORAGE_QUOTA_EXCEEDED, message)
                return
        key = blob_key(context.partner.id, context.report.id, run.id, attempt, fmt)
        try:
            delta = plan_delta(self.db, context, run, window, key, spreadsheet_safe=safe)
        except TRANSIENT_ERRORS as exc:
            self._transient(run, worker_id, attempt, context, exc)
            return
        if (run.window_start, run.window_end) != (window.start, window.end):
            leases.record_window(self.db, run.id, worker_id, window.start, window.end)
        tmp = self.tmp_dir / f"run-{run.id}-{attempt}.{fmt.extension}"
        try:
            with LeaseKeeper(self.db, run, worker_id, self.clock, self.lease_s) as keeper:
                if delta is None:
                    output = self.engine.run_to_file(query, tmp, fmt, self.timeout_s)
                else:
                    output = delta.run_to_file(self.engine, self.blobs, tmp, fmt, self.timeout_s)
                if keeper.lost.is_set():
                    raise LeaseLost(f"run {run.id}: lease lost while the query ran")
                # run_to_file fsynced the file; moving it keeps that data, so one fsync precedes the
                # commit below (a cross-device move copies and fsyncs again).
                self.blobs.put_file(key, tmp, move=True, synced=True)
        except LeaseLost:
            tmp.unlink(missing_ok=True)
            if delta is not None:
                delta.discard(self.blobs)
            self._notify("lease_lost", run, attempt)
            return
        except DeltaKeyNotUnique as exc:
            tmp.unlink(missing_ok=True)
            message = template_problem(exc, context.report.template_id)
            self._fail(run, worker_id, attempt, context, RunErrorCode.TEMPLATE_INVALID, message, exc)
            return
        except QueryTimeout as exc:
            tmp.unlink(missing_ok=True)
            message = query_timeout(self.timeout_s)
            self._fail(run, worker_id, attempt, context, RunErrorCode.QUERY_TIMEOUT, message, exc)
            return
        except (OSError, duckdb.Error, SQLAlchemyError, DriverLensError) as exc:
            tmp.unlink(missing_ok=True)
            if self.retry.is_permanent(exc):
                tid = tracking_id(run.id, attempt)
                self._fail(
                    run, worker_id, attempt, context, RunErrorCode.QUERY_REJECTED, query_rejected(tid), exc
                )
            else:
                self._transient(run, worker_id, attempt, context, exc)
            return
        outcome = Outcome(
            output.rows,
            output.bytes,
            output.sha256,
            key,
            fmt.value,
            store_version=output.store_version,
            newest_event=output.newest_event,
            install_base_version=output.install_base_version,
            delta_summary=delta.summary if delta is not None else None,
            delta_base=delta.base_key if delta is not None else None,
        )
        try:
            done = leases.complete(
                self.db,
                run.id,
                worker_id,
                self.clock.now(),
                outcome,
                attempt=attempt,
                after=self._after_end(context),
            )
        except LeaseLost:
            # A newer attempt owns the run: our file must not be visible anywhere.
            self.blobs.delete(key)
            if delta is not None:
                delta.discard(self.blobs)
            self._notify("lease_lost", run, attempt)
            return
        log.info(
            "run %s of report %s completed: %d rows, %d bytes in %.2f s (attempt %d)",
            run.id,
            context.report.id,
            output.rows,
            output.bytes,
            output.duration_s,
            attempt,
        )
        self._notify("committed", done, attempt)
        for earlier in range(1, attempt):  # files of attempts whose worker died between put and commit
            prefix = attempt_prefix(context.partner.id, context.report.id, run.id, earlier)
            for stale in self.blobs.keys_starting(prefix):
                self.blobs.delete(stale)

    def _fail(
        self,
        run: Run,
        worker_id: str,
        attempt: int,
        context: RunContext | None,
        code: RunErrorCode,
        message: str,
        cause: BaseException | None = None,
    ) -> None:
        """Fail the run for good: the partner reads ``code`` and ``message``, the log has the detail."""
        log.error(
            "run %s failed trackingId=%s code=%s: %s%s",
            run.id,
            tracking_id(run.id, attempt),
            code.value,
            message,
            f" (detail: {_detail(cause)})" if cause is not None else "",
        )
        try:
            after = self._after_end(context) if context is not None else None
            done = leases.fail(
                self.db,
                run.id,
                worker_id,
                self.clock.now(),
                stored(code, message),
                attempt=attempt,
                after=after,
            )
        except LeaseLost:
            self._notify("lease_lost", run, attempt)
            return
        self._notify("failed", done, attempt)

    def _transient(
        self, run: Run, worker_id: str, attempt: int, context: RunContext | None, error: BaseException
    ) -> None:
        """Retry with backoff while attempts remain, then fail with a message a partner can act on."""
        tid = tracking_id(run.id, attempt)
        if not self.retry.retries(error, attempt):
            message = exhausted(attempt, run.report_id, tid)
            self._fail(run, worker_id, attempt, context, RunErrorCode.RETRIES_EXHAUSTED, message, error)
            return
        delay = self.retry.delay(attempt, self.rng or random.Random())
        at = self.clock.now() + timedelta(seconds=delay)
        try:
            again = leases.retry_later(
                self.db,
                run.id,
                worker_id,
                self.clock.now(),
                stored(RunErrorCode.TEMPORARY_FAILURE, temporary(tid, delay)),
                at,
                attempt=attempt,
            )
        except LeaseLost:
            self._notify("lease_lost", run, attempt)
            return
        log.warning(
            "run %s attempt %s failed trackingId=%s (%s); retrying in %.1f s",
            run.id,
            attempt,
            tid,
            _detail(error),
            delay,
        )
        self._notify("retry", again, attempt)


def _detail(error: BaseException | None) -> str:
    """The full story of an error for the server log (never shown to partners)."""
    if error is None:
        return ""
    text = error.message if isinstance(error, DriverLensError) else str(error)
    return f"{type(error).__name__}: {text}"


def template_problem(exc: DriverLensError | ValueError, template_id: int) -> str:
    """A message a partner can act on when the stored template no longer compiles."""
    if isinstance(exc, ValidationFailed):
        detail = "; ".join(p.describe() for p in exc.problems())
    elif isinstance(exc, DriverLensError):
        detail = exc.message
    else:
        detail = str(exc)
    return (
        f"the report's template cannot run: {detail}; "
        f"fix it with POST /analytics/driver/reporttemplate/{template_id}"
    )
