"""Schedule arithmetic: pure functions of a schedule, a pause history and an injected 'now'.

Run k (0-based) of a schedule is due at ``start + k * interval``; its data window is the report period
measured back from that due time (the compiler's ``window_for``). Nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from driverlens.catalog import ReportPeriod
from driverlens.clock import ensure_utc
from driverlens.compiler import DataWindow, window_for

MIN_INTERVAL_HOURS = 12


class PlannedState(StrEnum):
    """What the planner should record for a due run."""

    PENDING = "Pending"
    SKIPPED = "Skipped"


@dataclass(frozen=True)
class ScheduleSpec:
    """A report's schedule: first due time, hours between runs and the number of runs."""

    start: datetime
    interval_hours: int
    count: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", ensure_utc(self.start))
        if self.interval_hours <= 0:
            raise ValueError("interval_hours must be positive")
        if self.count < 1:
            raise ValueError("count must be at least 1")

    @property
    def interval(self) -> timedelta:
        return timedelta(hours=self.interval_hours)

    @property
    def last_due(self) -> datetime:
        return self.due_at(self.count - 1)

    def due_at(self, index: int) -> datetime:
        """Due time of run ``index`` (0-based)."""
        if not 0 <= index < self.count:
            raise IndexError(f"run index {index} outside 0..{self.count - 1}")
        return self.start + index * self.interval

    def due_count(self, now: datetime) -> int:
        """How many runs are due at ``now`` (runs 0 .. n-1, due time <= now)."""
        now = ensure_utc(now)
        if now < self.start:
            return 0
        passed = int((now - self.start) // self.interval) + 1
        return min(passed, self.count)

    def due_indices(self, now: datetime) -> range:
        return range(self.due_count(now))

    def next_due(self, now: datetime) -> datetime | None:
        """The first due time strictly after ``now``, or None when every run is due."""
        n = self.due_count(now)
        return self.due_at(n) if n < self.count else None


@dataclass(frozen=True)
class PauseSpan:
    """A stretch of time during which the report was paused; ``end`` None means still paused."""

    start: datetime
    end: datetime | None = None

    def covers(self, moment: datetime) -> bool:
        """Paused at ``moment``: start <= moment < end (a run due exactly at resume time runs)."""
        moment = ensure_utc(moment)
        if moment < ensure_utc(self.start):
            return False
        return self.end is None or moment < ensure_utc(self.end)


@dataclass(frozen=True)
class PlannedRun:
    """A run the planner should materialise."""

    index: int
    due_at: datetime
    window: DataWindow
    state: PlannedState


def run_window(period: ReportPeriod, due: datetime) -> DataWindow:
    """The data window of a run due at ``due`` (the compiler's definition, reused)."""
    return window_for(period, ensure_utc(due))


def plan_runs(
    spec: ScheduleSpec,
    period: ReportPeriod,
    now: datetime,
    *,
    existing: Collection[int] = (),
    pauses: Collection[PauseSpan] = (),
    not_before_index: int = 0,
) -> list[PlannedRun]:
    """Runs due at ``now`` that are not yet recorded, oldest first.

    A run whose due time falls inside a pause is planned as Skipped; every other due run is Pending,
    including runs missed while the service was down (each with its own window). While the report is
    still paused, runs due before the pause began are held back: they are caught up after resume.
    """
    still_paused = any(p.end is None for p in pauses)
    planned: list[PlannedRun] = []
    for index in spec.due_indices(now):
        if index < not_before_index or index in existing:
            continue
        due = spec.due_at(index)
        if any(p.covers(due) for p in pauses):
            state = PlannedState.SKIPPED
        elif still_paused:
            continue
        else:
            state = PlannedState.PENDING
        planned.append(PlannedRun(index, due, run_window(period, due), state))
    return planned


def iter_schedule(spec: ScheduleSpec, period: ReportPeriod) -> Iterator[tuple[int, datetime, DataWindow]]:
    """Every run of the schedule with its due time and window (for display and tests)."""
    for index in range(spec.count):
        due = spec.due_at(index)
        yield index, due, run_window(period, due)


def is_active(spec: ScheduleSpec, *, paused: bool, terminal_indices: Collection[int]) -> bool:
    """False when paused or when every scheduled run has ended (Completed, Failed or Skipped)."""
    if paused:
        return False
    return any(index not in terminal_indices for index in range(spec.count))


def rebase_unstarted(
    new_spec: ScheduleSpec, period: ReportPeriod, unstarted: Collection[int]
) -> tuple[dict[int, tuple[datetime, DataWindow]], list[int]]:
    """After a schedule edit: new due time and window for each recorded but unstarted run index, and
    the indices that the new schedule no longer has (to drop). Started or finished runs keep theirs."""
    moved: dict[int, tuple[datetime, DataWindow]] = {}
    dropped: list[int] = []
    for index in sorted(unstarted):
        if index < new_spec.count:
            due = new_spec.due_at(index)
            moved[index] = (due, run_window(period, due))
        else:
            dropped.append(index)
    return moved, dropped
