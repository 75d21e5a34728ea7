"""Run history with the callback delivery log, on both metadata stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from driverlens.auth.principal import Principal
from driverlens.catalog import PartnerKind
from driverlens.errors import NotFound
from driverlens.metadata import CallbackAttempt, CallbackDelivery, DeliveryState, Partner
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import reports as report_repo
from driverlens.metadata.repositories import templates as template_repo
from driverlens.runs.manual import start_manual_run
from driverlens.usecases.run_history import run_history

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
BODY = {"view": "IHVDriver", "projection": ["DriverName"], "dateRange": {"reportPeriod": "Last7Days"}}


def _caller(partner: Partner) -> Principal:
    return Principal(partner.id, partner.name, PartnerKind.IHV, partner.tenant_id, "client")


def test_history_shows_each_run_and_its_callback_attempts(
    db: Database, make_partner: Callable[..., Partner]
) -> None:
    owner, other = make_partner(db), make_partner(db)
    with db.write_session() as session:
        template = template_repo.create_template(session, partner_id=owner.id, body=BODY, now=NOW)
        report = report_repo.create_report(
            session,
            partner_id=owner.id,
            template_id=template.id,
            start_time=NOW + timedelta(days=1),
            interval_hours=24,
            recurrence=3,
            now=NOW,
            callback_url="https://partner.example/hook",
        )
        run = start_manual_run(session, report, NOW)
        delivery = CallbackDelivery(
            run_id=run.id,
            webhook_id="msg_1",
            url="https://partner.example/hook",
            state=DeliveryState.PENDING,
            attempts=2,
            next_attempt_at=NOW + timedelta(minutes=1),
            created_at=NOW,
        )
        session.add(delivery)
        session.flush()
        session.add_all(
            [
                CallbackAttempt(
                    delivery_id=delivery.id, attempt=2, attempted_at=NOW, status_code=429, duration_ms=3
                ),
                CallbackAttempt(
                    delivery_id=delivery.id, attempt=1, attempted_at=NOW, status_code=500, duration_ms=5
                ),
            ]
        )
        report_id = report.id

    [item] = run_history(db, _caller(owner), report_id)
    shown = item.to_json()
    assert shown["manual"] is True and shown["ReportStatus"] == "Pending"
    # An extra run is not the schedule's run 0: it has no runIndex, and the first extra run is number 1.
    assert (shown["runIndex"], shown["manualIndex"]) == (None, 1)
    assert shown["windowEnd"] == "2026-03-01"
    assert shown["callback"]["state"] == "Pending"
    assert [(a["attempt"], a["statusCode"]) for a in shown["callback"]["attempts"]] == [(1, 500), (2, 429)]
    with pytest.raises(NotFound):
        run_history(db, _caller(other), report_id)


def test_a_report_whose_schedule_is_done_stays_active_while_an_extra_run_is_unfinished(
    db: Database, make_partner: Callable[..., Partner]
) -> None:
    from driverlens.metadata import Run, RunState
    from driverlens.runs.planner import report_is_active

    owner = make_partner(db)
    with db.write_session() as session:
        template = template_repo.create_template(session, partner_id=owner.id, body=BODY, now=NOW)
        report = report_repo.create_report(
            session, partner_id=owner.id, template_id=template.id, start_time=NOW - timedelta(days=2),
            interval_hours=24, recurrence=1, now=NOW - timedelta(days=3),
        )  # fmt: skip
        extra = start_manual_run(session, report, NOW)
        session.add(
            Run(
                report_id=report.id, run_index=0, manual=False, due_at=report.start_time,
                window_start=extra.window_start, window_end=extra.window_end, state=RunState.COMPLETED,
                next_attempt_at=NOW, template_version=1, created_at=NOW,
            )
        )  # fmt: skip
        session.flush()
        assert report_is_active(session, report)  # the extra run is still pending
        extra.state = RunState.COMPLETED
        session.flush()
        assert not report_is_active(session, report)  # every run done: the report is finished
