"""Waiting for a report's next completed run: polling with backoff, a timeout and a progress callback."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from driverlens.client.errors import RunFailedError, WaitTimeout
from driverlens.client.models import ReportRun, WaitProgress

WaitCallback = Callable[[WaitProgress], None]


def pick_run(runs: list[ReportRun], after: datetime | None) -> ReportRun | None:
    """The oldest completed run due at or after ``after``; else the newest such run (None: no run)."""
    candidates = sorted((r for r in runs if after is None or r.due >= after), key=lambda r: r.due)
    completed = [r for r in candidates if r.is_completed]
    if completed:
        return completed[0]
    unfinished = [r for r in candidates if not r.is_finished]
    if unfinished:
        return unfinished[-1]
    return candidates[-1] if candidates else None


def wait_for(
    fetch: Callable[[], list[ReportRun]],
    *,
    report_id: int,
    after: datetime | None,
    timeout: float,
    poll: float,
    max_poll: float,
    progress: WaitCallback | None,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ReportRun:
    """Poll ``fetch`` until a run due at or after ``after`` is Completed and return it.

    With ``after=None`` the newest run seen at the first poll (or the first run to appear) is awaited.
    Raises ``RunFailedError`` when every such run failed, ``WaitTimeout`` after ``timeout`` seconds.
    The poll interval starts at ``poll`` and grows by half up to ``max_poll``.
    """
    started = monotonic()
    delay = poll
    polls = 0
    first = True
    while True:
        polls += 1
        runs = fetch()
        if first and after is None and runs:
            after = max(r.due for r in runs)
        first = False
        run = pick_run(runs, after)
        elapsed = monotonic() - started
        if progress is not None:
            progress(WaitProgress(elapsed, polls, run))
        if run is not None and run.is_completed:
            return run
        if run is not None and run.is_failed:
            raise RunFailedError(
                f"the run of report {report_id} due {run.due.isoformat()} failed; "
                f"`driverlens client reports runs {report_id}` shows why; fix the template if needed, "
                f"then start another run (`driverlens client reports run {report_id}`)"
            )
        remaining = timeout - elapsed
        if remaining <= 0:
            state = f"the newest run is {run.status}" if run else "no run has started yet"
            raise WaitTimeout(
                f"no completed run of report {report_id} within {timeout:.0f} s ({state}); "
                "wait longer (--timeout) or check that a worker is running"
            )
        sleep(min(delay, remaining))
        delay = min(max_poll, delay * 1.5)
