"""The planner: materialises Run rows for scheduled runs as they fall due.

Leader-free and idempotent: every worker plans on every loop; the unique (report, manual, index) key with
``ON CONFLICT DO NOTHING`` makes racing planners insert each run exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from driverlens.catalog import ReportPeriod
from driverlens.clock import ensure_utc
from driverlens.metadata import Report, RunState
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import runs as repo
from driverlens.runs.schedule import (
    PauseSpan,
    PlannedRun,
    PlannedState,
    ScheduleSpec,
    plan_runs,
    rebase_unstarted,
)
from driverlens.templates import parse_template

SKIPPED_MESSAGE = "skipped: the report was paused when this run was due"


def schedule_of(report: Report) -> ScheduleSpec:
    return ScheduleSpec(report.start_time, report.interval_hours, report.recurrence)


def pauses_of(report: Report) -> list[PauseSpan]:
    """The report's known pause: still running, or the last one (paused_at .. resumed_at)."""
    if report.paused_at is None:
        return []
    if report.is_paused:
        return [PauseSpan(report.paused_at, None)]
    if report.resumed_at is not None and report.resumed_at >= report.paused_at:
        return [PauseSpan(report.paused_at, report.resumed_at)]
    return []


def period_of(body: Mapping[str, Any]) -> ReportPeriod:
    """The report period of a stored (canonical) template body."""
    return parse_template(dict(body)).report_period


def current_template_version(session: Session, template_id: int) -> tuple[int, ReportPeriod]:
    version, body = repo.current_template_version(session, template_id)
    return version, period_of(body)


def run_row(
    report: Report, planned: PlannedRun, version: int, now: datetime, *, manual: bool
) -> dict[str, Any]:
    """Column values of a new run."""
    skipped = planned.state is PlannedState.SKIPPED
    return {
        "report_id": report.id,
        "run_index": planned.index,
        "manual": manual,
        "due_at": planned.due_at,
        "window_start": planned.window.start,
        "window_end": planned.window.end,
        "state": RunState.SKIPPED if skipped else RunState.PENDING,
        "attempts": 0,
        "next_attempt_at": planned.due_at,
        "location": "",
        "format": report.output_format,
        "error": SKIPPED_MESSAGE if skipped else None,
        "finished_at": now if skipped else None,
        "template_version": version,
        "created_at": now,
    }


def _reports_needing_runs(session: Session, now: datetime) -> list[Report]:
    """Reports whose due scheduled runs are not all recorded yet (cheap pre-filter in Python)."""
    counts = repo.scheduled_run_counts(session)
    reports = repo.started_reports(session, now)
    return [r for r in reports if schedule_of(r).due_count(now) > counts.get(r.id, 0)]


def plan_report(
    session: Session, report: Report, now: datetime, *, max_queued: int | None = None
) -> list[dict[str, Any]]:
    """New run rows due for one report at ``now``.

    With ``max_queued``, at most that many of the report's scheduled runs are Pending or running at once:
    a schedule that starts far in the past (or a long outage) queues its missed runs a few at a time,
    oldest first, instead of all at once. Skipped runs are always recorded.
    """
    recorded = repo.scheduled_states(session, report.id)
    existing = {index for index, _ in recorded}
    version, period = current_template_version(session, report.template_id)
    planned = plan_runs(schedule_of(report), period, now, existing=existing, pauses=pauses_of(report))
    if max_queued is not None:
        room = max_queued - sum(1 for _, state in recorded if state in ACTIVE_STATES)
        pending = [p for p in planned if p.state is not PlannedState.SKIPPED]
        kept = {p.index for p in pending[: max(room, 0)]}
        planned = [p for p in planned if p.state is PlannedState.SKIPPED or p.index in kept]
    return [run_row(report, p, version, now, manual=False) for p in planned]


ACTIVE_STATES = (RunState.PENDING, RunState.IN_PROGRESS)


def plan_due_runs(db: Database, now: datetime, *, max_catch_up: int | None = None) -> int:
    """Materialise due scheduled runs not yet recorded (Pending, or Skipped if due while paused).

    ``max_catch_up`` caps how many runs of one schedule are queued at once (see ``plan_report``).
    """
    now = ensure_utc(now)
    with db.session() as session:
        rows = [
            row
            for report in _reports_needing_runs(session, now)
            for row in plan_report(session, report, now, max_queued=max_catch_up)
        ]
    if not rows:
        return 0
    with db.write_session() as session:
        return repo.insert_runs(session, rows)


def record_skips(session: Session, report: Report, now: datetime) -> int:
    """Record as Skipped the runs due while the report was paused (call on resume; idempotent)."""
    rows = [r for r in plan_report(session, report, ensure_utc(now)) if r["state"] is RunState.SKIPPED]
    return repo.insert_runs(session, rows)


def apply_schedule_edit(session: Session, report: Report, now: datetime) -> int:
    """After a schedule edit: move recorded-but-unstarted scheduled runs to the new schedule.

    Runs already started or finished keep their due time and window; unstarted runs take the new
    schedule's due time for their index, and indices beyond the new count are dropped. Returns how many
    runs changed.
    """
    unstarted = repo.unstarted_scheduled_runs(session, report.id)
    if not unstarted:
        return 0
    _, period = current_template_version(session, report.template_id)
    moved, dropped = rebase_unstarted(schedule_of(report), period, [r.run_index for r in unstarted])
    changed = 0
    for run in unstarted:
        # Guarded like a claim (in the repository): a worker may have started the run since it was read.
        target = moved.get(run.run_index)
        if run.run_index in dropped or target is None or target[0] > ensure_utc(now):
            # Gone from the new schedule, or not due yet under it (the planner records it when due).
            changed += repo.drop_unstarted(session, run.id)
        else:
            due, window = target
            changed += repo.move_unstarted(session, run.id, due, window.start, window.end)
    return changed


def report_is_active(session: Session, report: Report) -> bool:
    """``isActive`` of the contract: not paused, and not every run done: a scheduled run is still to
    come, or some run (an extra one too) is pending, running or waiting for a retry. Without the second
    part a report whose last run was being retried listed as done."""
    if report.is_paused:
        return False
    terminal = [s for s in RunState if s.is_terminal]
    ended = repo.count_runs(session, report.id, terminal, within=True, scheduled_only=True)
    if ended < report.recurrence:
        return True
    return repo.count_runs(session, report.id, terminal, within=False, scheduled_only=False) > 0
