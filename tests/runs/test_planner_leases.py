"""Planner, manual runs, the state machine and leases against real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from driverlens.clock import FrozenClock
from driverlens.metadata import Report, Run, RunState
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import reports, templates
from driverlens.runs import leases
from driverlens.runs.manual import start_manual_run
from driverlens.runs.planner import (
    SKIPPED_MESSAGE,
    apply_schedule_edit,
    plan_due_runs,
    record_skips,
    report_is_active,
)
from driverlens.runs.states import InvalidTransition, LeaseLost, Outcome, check_transition
from tests.runs.conftest import T0, Scheduled
from tests.runs.fakes import template_body

MakeReport = Callable[..., Scheduled]
H = timedelta(hours=1)


def runs_of(db: Database, report_id: int) -> list[Run]:
    with db.session() as session:
        return list(
            session.scalars(select(Run).where(Run.report_id == report_id).order_by(Run.manual, Run.run_index))
        )


def outcome(key: str = "reports/x.csv") -> Outcome:
    return Outcome(row_count=3, bytes=10, sha256="0" * 64, location=key, format="csv")


def test_planner_records_due_runs_once_with_their_windows(db: Database, make_report: MakeReport) -> None:
    sched = make_report(db, interval=24, recurrence=5, period="Yesterday")
    clock = FrozenClock(T0 - H)
    assert plan_due_runs(db, clock.now()) == 0
    clock.advance(H * 25)  # runs 0 and 1 due
    assert plan_due_runs(db, clock.now()) == 2
    assert plan_due_runs(db, clock.now()) == 0
    runs = runs_of(db, sched.report.id)
    assert [(r.run_index, r.state, r.due_at) for r in runs] == [
        (0, RunState.PENDING, T0),
        (1, RunState.PENDING, T0 + 24 * H),
    ]
    assert (runs[1].window_start, runs[1].window_end) == (date(2026, 3, 1), date(2026, 3, 2))
    assert runs[0].next_attempt_at == T0 and runs[0].template_version == 1


def test_racing_planners_insert_each_run_once(db: Database, make_report: MakeReport) -> None:
    sched = make_report(db, interval=12, recurrence=40)
    now = T0 + 12 * H * 39
    counts: list[int] = []
    barrier = threading.Barrier(4)

    def plan() -> None:
        barrier.wait()
        counts.append(plan_due_runs(db, now))

    threads = [threading.Thread(target=plan) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 40
    assert [r.run_index for r in runs_of(db, sched.report.id)] == list(range(40))


def test_catch_up_after_downtime_runs_every_missed_run(db: Database, make_report: MakeReport) -> None:
    sched = make_report(db, interval=12, recurrence=10, period="Last3Days")
    assert plan_due_runs(db, T0) == 1
    assert plan_due_runs(db, T0 + 12 * H * 6 + H) == 6  # down for three days
    runs = runs_of(db, sched.report.id)
    assert all(r.state is RunState.PENDING for r in runs)
    assert [r.due_at for r in runs] == [T0 + 12 * H * k for k in range(7)]
    assert runs[6].window_end == (T0 + 72 * H).date()


def test_pause_skips_runs_due_while_paused_and_resume_continues(
    db: Database, make_report: MakeReport
) -> None:
    sched = make_report(db, interval=24, recurrence=6)
    pid, rid = sched.partner.id, sched.report.id
    plan_due_runs(db, T0 + H)
    with db.session() as session:
        reports.pause_report(session, partner_id=pid, report_id=rid, now=T0 + 2 * H)
    # A worker planning while paused records the skip; nothing new is pending.
    plan_due_runs(db, T0 + 24 * H)
    with db.session() as session:
        report = session.get(Report, rid)
        assert report is not None and not report_is_active(session, report)
    plan_due_runs(db, T0 + 48 * H)  # second run due while paused
    with db.session() as session:
        reports.resume_report(session, partner_id=pid, report_id=rid, now=T0 + 60 * H)
    plan_due_runs(db, T0 + 72 * H)
    runs = runs_of(db, rid)
    assert [(r.run_index, r.state) for r in runs] == [
        (0, RunState.PENDING),
        (1, RunState.SKIPPED),
        (2, RunState.SKIPPED),
        (3, RunState.PENDING),
    ]
    assert runs[1].error == SKIPPED_MESSAGE and runs[1].finished_at is not None


def test_resume_without_planning_during_the_pause_still_skips(db: Database, make_report: MakeReport) -> None:
    sched = make_report(db, interval=24, recurrence=6)
    pid, rid = sched.partner.id, sched.report.id
    with db.session() as session:
        reports.pause_report(session, partner_id=pid, report_id=rid, now=T0 + H)
        report = reports.resume_report(session, partner_id=pid, report_id=rid, now=T0 + 50 * H)
        assert report is not None
        assert record_skips(session, report, T0 + 50 * H) == 2
    plan_due_runs(db, T0 + 50 * H)
    runs = runs_of(db, rid)
    assert [(r.run_index, r.state) for r in runs] == [
        (0, RunState.PENDING),
        (1, RunState.SKIPPED),
        (2, RunState.SKIPPED),
    ]
    # Run 0 was due before the pause: it was missed, not skipped, so it runs now.


def test_paused_reports_start_no_run(db: Database, make_report: MakeReport) -> None:
    sched = make_report(db)
    plan_due_runs(db, T0)
    with db.session() as session:
        reports.pause_report(session, partner_id=sched.partner.id, report_id=sched.report.id, now=T0 + H)
    assert leases.claim(db, "w", T0 + H, 30) is None
    with db.session() as session:
        reports.resume_report(session, partner_id=sched.partner.id, report_id=sched.report.id, now=T0 + 2 * H)
    run = leases.claim(db, "w", T0 + 2 * H, 30)
    assert run is not None and run.run_index == 0


def test_schedule_edit_applies_only_to_runs_not_yet_started(db: Database, make_report: MakeReport) -> None:
    sched = make_report(db, interval=24, recurrence=5)
    now = T0 + 48 * H
    plan_due_runs(db, now)  # runs 0, 1, 2
    started = leases.claim(db, "w", now, 60)
    assert started is not None and started.run_index == 0
    with db.session() as session:
        report = reports.update_report(
            session,
            partner_id=sched.partner.id,
            report_id=sched.report.id,
            now=now,
            interval_hours=12,
            recurrence=2,
        )
        assert report is not None
        apply_schedule_edit(session, report, now)
    runs = runs_of(db, sched.report.id)
    # Run 0 had started and keeps its due time; run 1 moves to the new schedule; run 2 is gone.
    assert [(r.run_index, r.due_at, r.state) for r in runs] == [
        (0, T0, RunState.IN_PROGRESS),
        (1, T0 + 12 * H, RunState.PENDING),
    ]
    assert plan_due_runs(db, now + 100 * H) == 0


def test_template_edit_applies_to_runs_claimed_afterwards(db: Database, make_report: MakeReport) -> None:
    sched = make_report(db)
    plan_due_runs(db, T0)
    with db.session() as session:
        templates.edit_template(
            session, partner_id=sched.partner.id, template_id=sched.template_id,
            body=template_body(period="Yesterday"), now=T0,
        )  # fmt: skip
    run = leases.claim(db, "w", T0, 60)
    assert run is not None and run.template_version == 2


def test_manual_runs_are_outside_the_schedule_count(db: Database, make_report: MakeReport) -> None:
    sched = make_report(db, recurrence=1, period="Last3Days")
    now = T0 + 5 * H
    with db.session() as session:
        report = session.get(Report, sched.report.id)
        assert report is not None
        first = start_manual_run(session, report, now)
        second = start_manual_run(session, report, now + H)
    assert (first.manual, first.run_index, second.run_index) == (True, 0, 1)
    assert (first.due_at, first.window_start, first.window_end) == (now, date(2026, 2, 26), date(2026, 3, 1))
    assert plan_due_runs(db, now) == 1  # the scheduled run 0 is still recorded
    with db.session() as session:
        report = session.get(Report, sched.report.id)
        assert report is not None and report_is_active(session, report)


def test_claim_takes_the_oldest_due_run_and_sets_a_lease(db: Database, make_report: MakeReport) -> None:
    make_report(db, interval=24, recurrence=3)
    plan_due_runs(db, T0 + 48 * H)
    now = T0 + 49 * H
    first = leases.claim(db, "a", now, 30)
    second = leases.claim(db, "b", now, 30)
    assert first is not None and second is not None
    assert (first.run_index, second.run_index) == (0, 1)
    assert first.state is RunState.IN_PROGRESS and first.lease_owner == "a" and first.attempts == 1
    assert first.lease_expires_at == now + timedelta(seconds=30) and first.started_at == now
    assert leases.claim(db, "c", now, 30) is not None
    assert leases.claim(db, "d", now, 30) is None


def test_retry_later_is_not_claimable_before_its_time(db: Database, make_report: MakeReport) -> None:
    make_report(db, recurrence=1)
    plan_due_runs(db, T0)
    run = leases.claim(db, "a", T0, 30)
    assert run is not None
    again = leases.retry_later(db, run.id, "a", T0, "disk hiccup", T0 + 20 * timedelta(seconds=1))
    assert again.state is RunState.PENDING and again.lease_owner is None and again.error == "disk hiccup"
    assert leases.claim(db, "b", T0 + timedelta(seconds=19), 30) is None
    retried = leases.claim(db, "b", T0 + timedelta(seconds=20), 30)
    assert retried is not None and retried.attempts == 2


def test_commit_needs_the_lease_and_an_expired_lease_is_taken_over(
    db: Database, make_report: MakeReport
) -> None:
    make_report(db, recurrence=1)
    plan_due_runs(db, T0)
    run = leases.claim(db, "a", T0, 30)
    assert run is not None
    assert leases.renew(db, run.id, "a", T0 + timedelta(seconds=20), 30)
    assert not leases.renew(db, run.id, "b", T0 + timedelta(seconds=20), 30)
    with pytest.raises(LeaseLost):
        leases.complete(db, run.id, "b", T0 + timedelta(seconds=21), outcome())
    late = T0 + timedelta(seconds=51)  # renewed until 50 s
    with pytest.raises(LeaseLost):
        leases.complete(db, run.id, "a", late, outcome())
    taken = leases.claim(db, "b", late, 30)
    assert taken is not None and taken.id == run.id and taken.attempts == 2 and taken.lease_owner == "b"
    # The stalled owner wakes up: nothing it does is recorded.
    with pytest.raises(LeaseLost):
        leases.complete(db, run.id, "a", late, outcome("reports/stale.csv"))
    with pytest.raises(LeaseLost):
        leases.fail(db, run.id, "a", late, "stale")
    assert not leases.renew(db, run.id, "a", late, 30)
    with pytest.raises(LeaseLost):
        leases.complete(db, run.id, "b", late, outcome(), attempt=1)  # wrong attempt number
    done = leases.complete(
        db, run.id, "b", late + timedelta(seconds=1), outcome("reports/new.csv"), attempt=2
    )
    assert (
        done.state is RunState.COMPLETED and done.location == "reports/new.csv" and done.lease_owner is None
    )
    assert done.finished_at == late + timedelta(seconds=1) and done.row_count == 3
    with pytest.raises(LeaseLost):
        leases.complete(db, run.id, "b", late + timedelta(seconds=2), outcome())


def test_broken_variant_lets_a_stale_worker_overwrite(
    db: Database, make_report: MakeReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_report(db, recurrence=1)
    plan_due_runs(db, T0)
    run = leases.claim(db, "a", T0, 30)
    assert run is not None
    assert leases.claim(db, "b", T0 + timedelta(seconds=31), 30) is not None
    monkeypatch.setattr(leases, "CHECK_LEASES", False)
    stale = leases.complete(db, run.id, "a", T0 + timedelta(seconds=32), outcome("reports/stale.csv"))
    assert stale.location == "reports/stale.csv"  # exactly what the lease check prevents


def test_runs_abandoned_too_often_are_failed_with_a_reason(db: Database, make_report: MakeReport) -> None:
    sched = make_report(db, recurrence=1)
    plan_due_runs(db, T0)
    now = T0
    for _ in range(3):
        assert leases.claim(db, "w", now, 10, max_claims=3) is not None
        now += timedelta(seconds=11)
    failed: list[int] = []
    assert leases.claim(db, "w", now, 10, max_claims=3, on_failed=lambda s, r: failed.append(r.id)) is None
    (run,) = runs_of(db, sched.report.id)
    assert run.state is RunState.FAILED and "stopped 3 times" in (run.error or "") and failed == [run.id]


def test_release_hands_a_run_back_without_using_an_attempt(db: Database, make_report: MakeReport) -> None:
    make_report(db, recurrence=1)
    plan_due_runs(db, T0)
    run = leases.claim(db, "a", T0, 30)
    assert run is not None
    assert leases.release(db, run.id, "a", T0 + H / 3600)
    assert not leases.release(db, run.id, "a", T0 + H / 3600)
    again = leases.claim(db, "b", T0 + H / 1800, 30)
    assert again is not None and again.attempts == 1


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (RunState.COMPLETED, RunState.IN_PROGRESS),
        (RunState.FAILED, RunState.PENDING),
        (RunState.SKIPPED, RunState.IN_PROGRESS),
        (RunState.PENDING, RunState.COMPLETED),
    ],
)
def test_state_machine_refuses_impossible_transitions(source: RunState, target: RunState) -> None:
    with pytest.raises(InvalidTransition):
        check_transition(source, target)
