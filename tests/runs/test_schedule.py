"""Schedule arithmetic on an injected clock: due times, windows, pauses, edits, catch-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from driverlens.catalog import ReportPeriod
from driverlens.clock import FrozenClock
from driverlens.compiler import DataWindow
from driverlens.runs.schedule import (
    PauseSpan,
    PlannedState,
    ScheduleSpec,
    is_active,
    iter_schedule,
    plan_runs,
    rebase_unstarted,
    run_window,
)

START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def spec(interval: int = 24, count: int = 5, start: datetime = START) -> ScheduleSpec:
    return ScheduleSpec(start, interval, count)


def test_due_time_of_run_k_is_start_plus_k_intervals() -> None:
    s = spec(interval=12, count=4)
    assert [s.due_at(k) for k in range(4)] == [START + timedelta(hours=12 * k) for k in range(4)]
    assert s.last_due == START + timedelta(hours=36)
    with pytest.raises(IndexError):
        s.due_at(4)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(seconds=-1), 0),
        (timedelta(0), 1),  # due exactly now is due
        (timedelta(hours=23, minutes=59), 1),
        (timedelta(hours=24), 2),
        (timedelta(days=400), 5),  # never more than the recurrence count
    ],
)
def test_due_count_moves_with_the_clock(offset: timedelta, expected: int) -> None:
    clock = FrozenClock(START + offset)
    assert spec().due_count(clock.now()) == expected


def test_next_due_follows_the_clock_and_ends() -> None:
    clock = FrozenClock(START - timedelta(hours=1))
    s = spec(count=2)
    assert s.next_due(clock.now()) == START
    clock.advance(timedelta(hours=1))
    assert s.next_due(clock.now()) == START + timedelta(days=1)
    clock.advance(timedelta(days=1))
    assert s.next_due(clock.now()) is None


@pytest.mark.parametrize(
    ("period", "due", "start", "end"),
    [
        (ReportPeriod.YESTERDAY, datetime(2026, 3, 1, 0, 0, tzinfo=UTC), date(2026, 2, 28), date(2026, 3, 1)),
        (
            ReportPeriod.YESTERDAY,
            datetime(2026, 3, 1, 23, 59, tzinfo=UTC),
            date(2026, 2, 28),
            date(2026, 3, 1),
        ),
        (ReportPeriod.LAST_3_DAYS, datetime(2026, 1, 2, 5, tzinfo=UTC), date(2025, 12, 30), date(2026, 1, 2)),
        (ReportPeriod.LAST_7_DAYS, START, date(2026, 2, 22), date(2026, 3, 1)),
        (ReportPeriod.LAST_30_DAYS, START, date(2026, 1, 30), date(2026, 3, 1)),
        (ReportPeriod.LAST_90_DAYS, START, date(2025, 12, 1), date(2026, 3, 1)),
    ],
)
def test_window_per_report_period_is_whole_utc_days_before_the_due_date(
    period: ReportPeriod, due: datetime, start: date, end: date
) -> None:
    assert run_window(period, due) == DataWindow(start, end)


def test_window_uses_the_utc_date_of_a_non_utc_due_time() -> None:
    from zoneinfo import ZoneInfo

    due = datetime(2026, 3, 1, 20, 0, tzinfo=ZoneInfo("America/Los_Angeles"))  # 2026-03-02 04:00 UTC
    assert run_window(ReportPeriod.YESTERDAY, due) == DataWindow(date(2026, 3, 1), date(2026, 3, 2))


def test_every_period_window_has_its_number_of_days() -> None:
    for period in ReportPeriod:
        for _, due, window in iter_schedule(spec(interval=13, count=3), period):
            assert window.days == period.days
            assert window.end == due.date()


def test_plan_records_due_runs_once_each_with_its_own_window() -> None:
    clock = FrozenClock(START + timedelta(days=2, hours=1))
    planned = plan_runs(spec(), ReportPeriod.YESTERDAY, clock.now())
    assert [p.index for p in planned] == [0, 1, 2]
    assert all(p.state is PlannedState.PENDING for p in planned)
    assert [p.window.start for p in planned] == [date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2)]
    again = plan_runs(spec(), ReportPeriod.YESTERDAY, clock.now(), existing={0, 1, 2})
    assert again == []


def test_catch_up_after_downtime_plans_each_missed_run_with_its_own_window() -> None:
    clock = FrozenClock(START + timedelta(hours=13))
    s = spec(interval=12, count=10)
    first = plan_runs(s, ReportPeriod.LAST_3_DAYS, clock.now())
    assert [p.index for p in first] == [0, 1]
    clock.advance(timedelta(days=3))  # the service was down for three days
    missed = plan_runs(s, ReportPeriod.LAST_3_DAYS, clock.now(), existing={0, 1})
    assert [p.index for p in missed] == [2, 3, 4, 5, 6, 7]
    assert all(p.state is PlannedState.PENDING for p in missed)
    assert [p.due_at for p in missed] == [s.due_at(k) for k in range(2, 8)]
    assert [p.window for p in missed] == [
        run_window(ReportPeriod.LAST_3_DAYS, s.due_at(k)) for k in range(2, 8)
    ]
    assert len({p.window for p in missed}) == 3  # two 12-hourly runs per UTC date share its window


def test_runs_due_while_paused_are_skipped_and_later_runs_are_pending() -> None:
    s = spec(interval=24, count=6)
    paused_at = START + timedelta(days=1, hours=1)  # after run 1 was due
    resumed_at = START + timedelta(days=3, hours=12)  # runs 2 and 3 fell due while paused
    clock = FrozenClock(START + timedelta(days=4, hours=1))
    planned = plan_runs(
        s, ReportPeriod.YESTERDAY, clock.now(), existing={0, 1}, pauses=[PauseSpan(paused_at, resumed_at)]
    )
    assert [(p.index, p.state) for p in planned] == [
        (2, PlannedState.SKIPPED),
        (3, PlannedState.SKIPPED),
        (4, PlannedState.PENDING),
    ]


def test_while_paused_nothing_starts_and_runs_missed_before_the_pause_wait_for_resume() -> None:
    s = spec(interval=24, count=6)
    pause = PauseSpan(START + timedelta(days=1, hours=1))
    clock = FrozenClock(START + timedelta(days=2, hours=1))
    # Run 0 and 1 were due before the pause but never recorded (service down): held back, not skipped.
    planned = plan_runs(s, ReportPeriod.YESTERDAY, clock.now(), pauses=[pause])
    assert [(p.index, p.state) for p in planned] == [(2, PlannedState.SKIPPED)]
    resumed = PauseSpan(pause.start, clock.now())
    after = plan_runs(s, ReportPeriod.YESTERDAY, clock.now(), existing={2}, pauses=[resumed])
    assert [(p.index, p.state) for p in after] == [(0, PlannedState.PENDING), (1, PlannedState.PENDING)]


def test_a_run_due_exactly_at_resume_time_runs() -> None:
    s = spec(interval=24, count=3)
    pause = PauseSpan(START + timedelta(hours=1), START + timedelta(days=1))
    planned = plan_runs(s, ReportPeriod.YESTERDAY, START + timedelta(days=1), existing={0}, pauses=[pause])
    assert [(p.index, p.state) for p in planned] == [(1, PlannedState.PENDING)]


def test_is_active_false_when_paused_or_all_runs_done() -> None:
    s = spec(count=3)
    assert is_active(s, paused=False, terminal_indices=set())
    assert not is_active(s, paused=True, terminal_indices=set())
    assert is_active(s, paused=False, terminal_indices={0, 1})
    assert not is_active(s, paused=False, terminal_indices={0, 1, 2})


def test_already_finished_runs_are_never_planned_again() -> None:
    s = spec(count=3)
    late = START + timedelta(days=30)
    assert plan_runs(s, ReportPeriod.YESTERDAY, late, existing={0, 1, 2}) == []


def test_edit_moves_only_unstarted_runs_and_drops_indices_past_the_new_count() -> None:
    new = ScheduleSpec(START + timedelta(hours=6), 48, 4)
    moved, dropped = rebase_unstarted(new, ReportPeriod.LAST_7_DAYS, unstarted=[2, 3, 5, 6])
    assert sorted(moved) == [2, 3]
    assert moved[2] == (new.due_at(2), run_window(ReportPeriod.LAST_7_DAYS, new.due_at(2)))
    assert dropped == [5, 6]


def test_schedule_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        ScheduleSpec(START, 0, 1)
    with pytest.raises(ValueError):
        ScheduleSpec(START, 12, 0)
    naive = ScheduleSpec(START.replace(tzinfo=None), 12, 1)
    assert naive.start == START
