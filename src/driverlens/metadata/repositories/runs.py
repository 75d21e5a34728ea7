"""Runs: report data's listing (due between two dates), planning with ON CONFLICT, the one state-change
statement, retention of files, counts for quotas and health, and run history.

Report data is polled, so :func:`runs_due_between` runs on a SQLite file or PostgreSQL through its
raw-driver twin (``Database.fast``; tests prove both return the same rows), chosen here and invisible to
callers.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from driverlens.metadata.database import Database
from driverlens.metadata.hotpath import RunRow
from driverlens.metadata.models import Partner, Report, Run, RunState, Template, TemplateVersion

# Built once: report data is polled, and building the statement costs more than running it.
_OWNED = (
    (Report.id == bindparam("report_id"))
    & (Report.partner_id == bindparam("partner_id"))
    & Report.deleted_at.is_(None)
)
_RUNS_DUE_BETWEEN = (
    select(
        Run.due_at,
        Run.state,
        Run.location,
        Run.manual,
        Run.format,
        Run.sha256,
        Run.store_version,
        Run.data_newest_event_at,
        Run.delta_summary,
    )
    .join(Report, Report.id == Run.report_id)
    .where(
        _OWNED,
        Run.due_at >= bindparam("lower", type_=Run.due_at.type),
        Run.due_at < bindparam("upper", type_=Run.due_at.type),
        Run.state != RunState.SKIPPED,
    )
    .order_by(Run.due_at, Run.manual, Run.run_index)
)
_REPORT_EXISTS = select(Report.id).where(_OWNED)


def rowcount(result: Any) -> int:
    """Rows matched by an UPDATE/DELETE/INSERT result (``Result`` is typed without it)."""
    return int(getattr(result, "rowcount", 0))


def runs_due_between(
    db: Database, report_id: int, partner_id: int, lower: datetime, upper: datetime
) -> Sequence[RunRow] | None:
    """The partner's report's runs due in [lower, upper), not skipped, in listing order; None when the
    report is not the partner's (or deleted). One query unless nothing matches."""
    fast = db.fast
    if fast is not None:
        return fast.runs_due_between(report_id, partner_id, lower, upper)
    params = {"report_id": report_id, "partner_id": partner_id, "lower": lower, "upper": upper}
    with db.engine.connect() as conn:
        rows: Sequence[Any] = conn.execute(_RUNS_DUE_BETWEEN, params).all()
        if not rows and conn.execute(_REPORT_EXISTS, params).first() is None:
            return None
    return rows


# --- planning -------------------------------------------------------------------------------------


def current_template_version(session: Session, template_id: int) -> tuple[int, dict[str, Any]]:
    """The current version number of a template and its stored body."""
    row = session.execute(
        select(TemplateVersion.version, TemplateVersion.body)
        .join(Template, Template.id == TemplateVersion.template_id)
        .where(Template.id == template_id, TemplateVersion.version == Template.current_version)
    ).one()
    return int(row[0]), dict(row[1])


def insert_runs(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert runs, ignoring any that already exist (another planner was first); returns how many."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Run).on_conflict_do_nothing(index_elements=[Run.report_id, Run.manual, Run.run_index])
    inserted = 0
    for row in rows:
        # RETURNING says whether the row went in (rowcount is not reliable for ORM-level inserts).
        inserted += len(session.execute(stmt.values(**row).returning(Run.id)).all())
    return inserted


def scheduled_run_counts(session: Session) -> dict[int, int]:
    """Recorded scheduled (not manual) runs per report id."""
    rows = session.execute(
        select(Run.report_id, func.count()).where(Run.manual.is_(False)).group_by(Run.report_id)
    ).all()
    return {int(report_id): int(count) for report_id, count in rows}


def started_reports(session: Session, now: datetime) -> Sequence[Report]:
    """Live reports whose schedule has started by ``now``, by id."""
    return session.scalars(
        select(Report).where(Report.deleted_at.is_(None), Report.start_time <= now).order_by(Report.id)
    ).all()


def scheduled_states(session: Session, report_id: int) -> list[tuple[int, RunState]]:
    """(index, state) of every recorded scheduled run of a report."""
    rows = session.execute(
        select(Run.run_index, Run.state).where(Run.report_id == report_id, Run.manual.is_(False))
    ).all()
    return [(int(index), state) for index, state in rows]


def unstarted_scheduled_runs(session: Session, report_id: int) -> Sequence[Run]:
    """Scheduled runs of a report still Pending and never attempted."""
    return session.scalars(
        select(Run).where(
            Run.report_id == report_id,
            Run.manual.is_(False),
            Run.state == RunState.PENDING,
            Run.attempts == 0,
        )
    ).all()


def _still_unstarted(run_id: int) -> ColumnElement[bool]:
    # Guarded like a claim: a worker may have started the run since it was read.
    return and_(Run.id == run_id, Run.state == RunState.PENDING, Run.attempts == 0)


def drop_unstarted(session: Session, run_id: int) -> int:
    """Delete a run if it is still unstarted; how many rows went (0 or 1)."""
    stmt = delete(Run).where(_still_unstarted(run_id)).execution_options(synchronize_session=False)
    return rowcount(session.execute(stmt))


def move_unstarted(session: Session, run_id: int, due: datetime, start: date, end: date) -> int:
    """Give a still unstarted run a new due time and window; how many rows changed (0 or 1)."""
    stmt = (
        update(Run)
        .where(_still_unstarted(run_id))
        .values(due_at=due, next_attempt_at=due, window_start=start, window_end=end)
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(stmt))


def count_runs(
    session: Session, report_id: int, states: Collection[RunState], *, within: bool, scheduled_only: bool
) -> int:
    """A report's runs whose state is (``within``) or is not in ``states``; scheduled ones only if asked."""
    state = Run.state.in_(list(states)) if within else Run.state.not_in(list(states))
    query = select(func.count()).where(Run.report_id == report_id, state)
    if scheduled_only:
        query = query.where(Run.manual.is_(False))
    return int(session.scalar(query) or 0)


def last_manual_index(session: Session, report_id: int) -> int | None:
    last = session.scalar(
        select(func.max(Run.run_index)).where(Run.report_id == report_id, Run.manual.is_(True))
    )
    return None if last is None else int(last)


def manual_run(session: Session, report_id: int, index: int) -> Run:
    return session.scalars(
        select(Run).where(Run.report_id == report_id, Run.manual.is_(True), Run.run_index == index)
    ).one()


# --- state changes --------------------------------------------------------------------------------


def set_state(
    session: Session,
    run_id: int,
    values: dict[str, Any],
    *,
    sources: Collection[RunState] | None,
    guard: ColumnElement[bool] | None = None,
) -> bool:
    """Write ``values`` to run ``run_id`` if it is in one of ``sources`` and ``guard`` holds (a
    compare-and-set: one row or nothing); ``sources=None`` matches the id alone. True if it matched."""
    condition: ColumnElement[bool] = Run.id == run_id
    if sources is not None:
        condition = and_(condition, Run.state.in_(list(sources)), guard if guard is not None else true())
    result = session.execute(
        update(Run).where(condition).values(**values).execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def get_run(session: Session, run_id: int) -> Run | None:
    return session.get(Run, run_id)


def report_and_partner(session: Session, report_id: int) -> tuple[Report, Partner] | None:
    """A report with its partner (None when the report is gone)."""
    row = session.execute(
        select(Report, Partner).join(Partner, Partner.id == Report.partner_id).where(Report.id == report_id)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def reload(session: Session, run_id: int) -> Run | None:
    """The run as stored now (the session's copy refreshed)."""
    return session.get(Run, run_id, populate_existing=True)


# --- what a run needs, quotas, health -------------------------------------------------------------


def run_context(
    session: Session, report_id: int, template_version: int
) -> tuple[Report, Partner, dict[str, Any]]:
    """A run's report, its partner and the body of the template version it runs."""
    row = session.execute(
        select(Report, Partner, TemplateVersion.body)
        .join(Partner, Partner.id == Report.partner_id)
        .join(Template, Template.id == Report.template_id)
        .join(TemplateVersion, TemplateVersion.template_id == Template.id)
        .where(Report.id == report_id, TemplateVersion.version == template_version)
    ).one()
    return row[0], row[1], dict(row[2])


def partner_run_count(session: Session, partner_id: int, states: Collection[RunState]) -> int:
    """The partner's runs in one of ``states``."""
    count = session.scalar(
        select(func.count())
        .select_from(Run)
        .join(Report, Report.id == Run.report_id)
        .where(Report.partner_id == partner_id, Run.state.in_(list(states)))
    )
    return int(count or 0)


def partner_stored_bytes(session: Session, partner_id: int) -> int:
    """Bytes of the partner's report files still kept (completed runs whose file is not purged)."""
    total = session.scalar(
        select(func.coalesce(func.sum(Run.bytes), 0))
        .select_from(Run)
        .join(Report, Report.id == Run.report_id)
        .where(Report.partner_id == partner_id, Run.state == RunState.COMPLETED, Run.location != "")
    )
    return int(total or 0)


def count_by_state(db: Database) -> dict[str, int]:
    """Runs per state (every state listed, zero included)."""
    with db.session() as session:
        rows = session.execute(select(Run.state, func.count()).group_by(Run.state)).all()
    counts = {state.value: 0 for state in RunState}
    for state, count in rows:
        counts[state.value] = int(count)
    return counts


# --- retention ------------------------------------------------------------------------------------


def unlink_files(session: Session, keys: Sequence[str]) -> int:
    """Runs whose file is one of ``keys`` (deleted) lose their location; how many."""
    stmt = (
        update(Run)
        .where(Run.location.in_(list(keys)))
        .values(location="")
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(stmt))


def unlink_finished_before(session: Session, cutoff: datetime) -> int:
    """Runs finished before ``cutoff`` that still have a location lose it; how many."""
    stmt = (
        update(Run)
        .where(and_(Run.location != "", Run.finished_at < cutoff))
        .values(location="")
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(stmt))


# --- run history ----------------------------------------------------------------------------------


def newest_runs(session: Session, report_id: int, limit: int) -> list[Run]:
    """A report's newest ``limit`` runs, oldest of them first."""
    runs = list(
        session.scalars(
            select(Run).where(Run.report_id == report_id).order_by(Run.due_at.desc(), Run.id.desc())
        ).fetchmany(limit)
    )
    runs.reverse()
    return runs
