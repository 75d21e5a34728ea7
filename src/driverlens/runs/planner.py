"""The planner: materialises Run rows for scheduled runs as they fall due.

Leader-free and idempotent: every worker plans on every loop; the unique (report, manual, index) key with
``ON CONFLICT DO NOTHING`` makes racing planners insert each run exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from driverlens.catalog import ReportPeriod
from driverlens.clock import ensure_utc
from driverlens.metadata import Report, Run, RunState, Template, TemplateVersion
from driverlens.metadata.database import Database
from driverlens.runs.schedule import (
    PauseSpan,
    PlannedRun,
    PlannedState,
    ScheduleSpec,
    plan_runs,
    rebase_unstarted,
)
from driverlens.runs.states import rowcount
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
    row = session.execute(
        select(TemplateVersion.version, TemplateVersion.body)
        .join(Template, Template.id == TemplateVersion.template_id)
        .where(Template.id == template_id, TemplateVersion.version == Template.current_version)
    ).one()
    return int(row[0]), period_of(row[1])


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


def insert_runs(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert runs, ignoring any that already exist (another planner was first); returns how many."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(Run).on_conflict_do_nothing(
            index_elements=[Run.report_id, Run.manual, Run.run_index]
        )
    else:
        stmt = sqlite.insert(Run).on_conflict_do_nothing(
            index_elements=[Run.report_id, Run.manual, Run.run_index]
        )
    inserted = 0
    for row in rows:
        # RETURNING says whether the row went in (rowcount is not reliable for ORM-level inserts).
        inserted += len(session.execute(stmt.values(**row).returning(Run.id)).all())
    return inserted


def _reports_needing_runs(session: Session, now: datetime) -> list[Report]:
    """Reports whose due scheduled runs are not all recorded yet (cheap pre-filter in Python)."""
    counts = dict(
        session.execute(
            select(Run.report_id, func.count()).where(Run.manual.is_(False)).group_by(Run.report_id)
        ).all()
    )
    reports = session.scalars(
        select(Report).where(Report.deleted_at.is_(None), Report.start_time <= now).order_by(Report.id)
    ).all()
    return [r for r in reports if schedule_of(r).due_count(now) > counts.get(r.id, 0)]


def plan_report(
    session: Session, report: Report, now: datetime, *, max_queued: int | None = None
) -> list[dict[str, Any]]:
    """New run rows due for one report at ``now``.

    With ``max_queued``, at most that many of the report's scheduled runs are Pending or running at once:
    a schedule that starts far in the past (or a long outage) queues its missed runs a few at a time,
    oldest first, instead of all at once. Skipped runs are always recorded.
    """
    recorded = session.execute(
        select(Run.run_index, Run.state).where(Run.report_id == report.id, Run.manual.is_(False))
    ).all()
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
        return insert_runs(session, rows)


def record_skips(session: Session, report: Report, now: datetime) -> int:
    """Record as Skipped the runs due while the report was paused (call on resume; idempotent)."""
    rows = [r for r in plan_report(session, report, ensure_utc(now)) if r["state"] is RunState.SKIPPED]
    return insert_runs(session, rows)


def apply_schedule_edit(session: Session, report: Report, now: datetime) -> int:
    """After a schedule edit: move recorded-but-unstarted scheduled runs to the new schedule.

    Runs already started or finished keep their due time and window; unstarted runs take the new
    schedule's due time for their index, and indices beyond the new count are dropped. Returns how many
    runs changed.
    """
    unstarted = session.scalars(
        select(Run).where(
            Run.report_id == report.id,
            Run.manual.is_(False),
            Run.state == RunState.PENDING,
            Run.attempts == 0,
        )
    ).all()
    if not unstarted:
        return 0
    _, period = current_template_version(session, report.template_id)
    moved, dropped = rebase_unstarted(schedule_of(report), period, [r.run_index for r in unstarted])
    changed = 0
    for run in unstarted:
        # Guarded like a claim: a worker may have started the run since it was read.
        still_unstarted = and_(Run.id == run.id, Run.state == RunState.PENDING, Run.attempts == 0)
        target = moved.get(run.run_index)
        if run.run_index in dropped or target is None or target[0] > ensure_utc(now):
            # Gone from the new schedule, or not due yet under it (the planner records it when due).
            stmt: Any = delete(Run).where(still_unstarted)
        else:
            due, window = target
            stmt = (
                update(Run)
                .where(still_unstarted)
                .values(due_at=due, next_attempt_at=due, window_start=window.start, window_end=window.end)
            )
        changed += rowcount(session.execute(stmt.execution_options(synchronize_session=False)))
    return changed


def report_is_active(session: Session, report: Report) -> bool:
    """``isActive`` of the contract: not paused, and not every run done: a scheduled run is still to
    come, or some run (an extra one too) is pending, running or waiting for a retry. Without the second
    part a report whose last run was being retried listed as done."""
    if report.is_paused:
        return False
    terminal = [s for s in RunState if s.is_terminal]
    ended = session.scalar(
        select(func.count()).where(Run.report_id == report.id, Run.manual.is_(False), Run.state.in_(terminal))
    )
    if int(ended or 0) < report.recurrence:
        return True
    unfinished = session.scalar(
        select(func.count()).where(Run.report_id == report.id, Run.state.not_in(terminal))
    )
    return bool(unfinished)
