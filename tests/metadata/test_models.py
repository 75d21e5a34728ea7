"""Model-level guarantees: UTC round trips, state stored as text, uniqueness of runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from driverlens.metadata.database import Database
from driverlens.metadata.models import Partner, Report, Run, RunState, Template
from driverlens.metadata.repositories import templates

PLUS_TWO = timezone(timedelta(hours=2))


def _report(database: Database, partner: Partner, now: datetime, body: dict[str, Any]) -> int:
    with database.session() as session:
        stored = templates.create_template(session, partner_id=partner.id, body=body, now=now)
        report = Report(
            partner_id=partner.id,
            template_id=stored.id,
            start_time=now,
            interval_hours=24,
            recurrence=3,
            created_at=now,
            modified_at=now,
        )
        session.add(report)
        session.flush()
        return report.id


def _run(report_id: int, due: datetime, *, index: int = 0, manual: bool = False) -> Run:
    return Run(
        report_id=report_id,
        run_index=index,
        manual=manual,
        due_at=due,
        window_start=date(2026, 2, 22),
        window_end=date(2026, 3, 1),
        next_attempt_at=due,
        template_version=1,
        created_at=due,
    )


def test_datetimes_come_back_aware_utc_and_compare_in_sql(
    db: Database, make_partner: Any, now: datetime, template_body: dict[str, Any]
) -> None:
    partner = make_partner(db)
    report_id = _report(db, partner, now, template_body)
    local_due = datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=PLUS_TWO)  # 12:30:15 UTC
    with db.session() as session:
        session.add(_run(report_id, local_due))
    with db.session() as session:
        run = session.scalars(select(Run)).one()
        assert run.due_at == local_due
        assert run.due_at.tzinfo is UTC
        assert run.due_at.isoformat() == "2026-03-01T12:30:15.123456+00:00"
        # A bound parameter in another zone compares by instant, not by wall-clock text.
        before = datetime(2026, 3, 1, 13, 30, tzinfo=PLUS_TWO)  # 11:30 UTC: earlier than due
        after = datetime(2026, 3, 1, 14, 31, tzinfo=PLUS_TWO)  # 12:31 UTC: later than due
        assert session.scalars(select(Run.id).where(Run.next_attempt_at <= before)).all() == []
        assert session.scalars(select(Run.id).where(Run.next_attempt_at <= after)).all() == [run.id]
        assert run.state is RunState.PENDING
        assert run.attempts == 0
        assert run.location == ""
        assert run.manual is False


def test_naive_datetimes_are_refused(db: Database, make_partner: Any) -> None:
    partner = make_partner(db)
    with pytest.raises(StatementError, match="naive datetime"), db.session() as session:
        session.add(
            Template(
                partner_id=partner.id,
                current_version=1,
                created_at=datetime(2026, 1, 1),
                modified_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        session.flush()


def test_run_state_is_stored_as_its_display_text(
    db: Database, make_partner: Any, now: datetime, template_body: dict[str, Any]
) -> None:
    partner = make_partner(db)
    report_id = _report(db, partner, now, template_body)
    with db.session() as session:
        run = _run(report_id, now)
        run.state = RunState.IN_PROGRESS
        session.add(run)
    with db.session() as session:
        assert session.execute(text("SELECT state FROM runs")).scalar() == "In Progress"
        session.execute(text("UPDATE runs SET state = 'Completed'"))
    with db.session() as session:
        assert session.scalars(select(Run.state)).one() is RunState.COMPLETED
    with pytest.raises(IntegrityError), db.session() as session:
        session.execute(text("UPDATE runs SET state = 'Exploded'"))
    assert [s.is_terminal for s in RunState] == [False, False, True, True, True]


def test_run_index_is_unique_per_report_and_kind(
    db: Database, make_partner: Any, now: datetime, template_body: dict[str, Any]
) -> None:
    partner = make_partner(db)
    report_id = _report(db, partner, now, template_body)
    with db.session() as session:
        session.add(_run(report_id, now, index=0))
        session.add(_run(report_id, now, index=0, manual=True))  # manual runs count separately
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(_run(report_id, now + timedelta(hours=1), index=0))
    with db.session() as session:
        assert len(session.scalars(select(Run)).all()) == 2


def test_foreign_keys_are_enforced(db: Database, now: datetime) -> None:
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Template(partner_id=424242, current_version=1, created_at=now, modified_at=now))
