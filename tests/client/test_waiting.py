"""Which run ``wait_for_completed_run`` waits for, and how it polls (scripted report data, fake clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from driverlens.client import ReportRun, RunFailedError, WaitProgress, WaitTimeout
from driverlens.client.waiting import wait_for

T0 = datetime(2026, 3, 1, 6, tzinfo=UTC)


def run(hours: int, status: str) -> ReportRun:
    location = "http://x/files/r.csv" if status == "Completed" else ""
    return ReportRun(1, T0 + timedelta(hours=hours), status, location)


def scripted(*polls: list[ReportRun]) -> Callable[[], list[ReportRun]]:
    answers = list(polls)
    return lambda: answers.pop(0) if len(answers) > 1 else answers[0]


def wait(
    fetch: Callable[[], list[ReportRun]], after: datetime | None = None, timeout: float = 100
) -> tuple[ReportRun, list[float], list[WaitProgress]]:
    clock = [0.0]
    sleeps: list[float] = []
    seen: list[WaitProgress] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    found = wait_for(
        fetch, report_id=1, after=after, timeout=timeout, poll=1.0, max_poll=3.0, progress=seen.append,
        monotonic=lambda: clock[0], sleep=sleep,
    )  # fmt: skip
    return found, sleeps, seen


def test_without_after_the_newest_run_at_the_first_poll_is_awaited() -> None:
    old = run(0, "Completed")
    found, sleeps, seen = wait(
        scripted([old, run(24, "Pending")], [old, run(24, "In Progress")], [old, run(24, "Completed")])
    )
    assert found.due == T0 + timedelta(hours=24)
    assert sleeps == [1.0, 1.5]  # the interval grows by half
    assert [p.run.status for p in seen if p.run] == ["Pending", "In Progress", "Completed"]


def test_with_after_the_next_completed_run_counts_even_if_a_later_one_is_pending() -> None:
    runs = [run(0, "Completed"), run(24, "Completed"), run(48, "Pending")]
    found, sleeps, _ = wait(scripted(runs), after=T0 + timedelta(hours=1))
    assert found.due == T0 + timedelta(hours=24) and sleeps == []


def test_a_failed_run_with_nothing_left_to_wait_for_raises() -> None:
    with pytest.raises(RunFailedError, match="failed"):
        wait(scripted([run(0, "Pending")], [run(0, "Failed")]))


def test_timeout_caps_the_poll_interval_and_says_what_it_saw() -> None:
    with pytest.raises(WaitTimeout, match="the newest run is Pending") as caught:
        wait(scripted([run(0, "Pending")]), timeout=5)
    assert "--timeout" in str(caught.value)
