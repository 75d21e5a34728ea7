"""What the metadata store, the workers' logs, the blob store and the callback receiver say after chaos."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from driverlens.blobs.store import BlobStore
from driverlens.metadata import Report, Run, RunState
from driverlens.metadata.database import Database
from driverlens.metadata.models import CallbackDelivery, DeliveryState
from driverlens.runs.schedule import ScheduleSpec
from tests.deploy.load import Tally
from tests.deploy.receiver import Received

#: The line a worker logs right after its commit (runs/execution.py); the runs' history across kills.
COMPLETED_LINE = re.compile(r"run (\d+) of report \d+ completed: .* \(attempt (\d+)\)")


@dataclass
class Verdict:
    due: int
    runs: int
    completed: int
    failed: int
    completed_twice: int
    files: int
    files_not_once: int
    callbacks_expected: int
    callbacks_received: int
    bad_signatures: int
    kills: int
    five_xx: int
    excused_connection_errors: int
    unexplained_connection_errors: int
    unexpected_answers: int
    downloads: int

    @property
    def lost(self) -> int:
        return self.due - self.completed

    @property
    def clean(self) -> bool:
        return (
            self.due > 0
            and self.lost == 0
            and self.completed_twice == 0
            and self.files == self.completed
            and self.files_not_once == 0
            and self.callbacks_received == self.callbacks_expected == self.completed
            and self.bad_signatures == 0
            and self.five_xx == 0
            and self.unexplained_connection_errors == 0
            and self.unexpected_answers == 0
        )

    def line(self, label: str, extra: str = "") -> str:
        return (
            f"{label}: runs={self.due} completed={self.completed} lost={self.lost} failed={self.failed} "
            f"completed_twice={self.completed_twice} files={self.files} files_not_once={self.files_not_once} "
            f"kills={self.kills} 5xx={self.five_xx} "
            f"conn_errors_killed={self.excused_connection_errors} "
            f"conn_errors_other={self.unexplained_connection_errors} unexpected={self.unexpected_answers} "
            f"callbacks={self.callbacks_received}/{self.callbacks_expected} "
            f"bad_signatures={self.bad_signatures} downloads={self.downloads}{extra}"
        )


def due_runs(db: Database, now: datetime | None = None) -> int:
    """Runs every stored report's schedule says are due by ``now`` (the truth of what was scheduled)."""
    moment = now or datetime.now(UTC)
    with db.session() as session:
        reports = session.execute(
            select(Report.start_time, Report.interval_hours, Report.recurrence).where(
                Report.deleted_at.is_(None)
            )
        ).all()
    return sum(ScheduleSpec(start, hours, count).due_count(moment) for start, hours, count in reports)


def settled(db: Database, received: Received) -> bool:
    """Every due run is recorded and ended, and each ended run's callback reached the receiver."""
    with db.session() as session:
        states = session.scalars(select(Run.state)).all()
        webhooks = set(session.scalars(select(CallbackDelivery.webhook_id)).all())
    ended = [s for s in states if s.is_terminal]
    return (
        len(states) == due_runs(db)
        and len(ended) == len(states)
        and len(webhooks) == len(ended)
        and webhooks <= set(received.unique())
    )


def judge(
    db: Database, blobs: BlobStore, worker_logs: str, received: Received, tally: Tally, kills: int
) -> Verdict:
    with db.session() as session:
        runs = list(session.scalars(select(Run)))
        deliveries = list(session.scalars(select(CallbackDelivery)))
    completed = [r for r in runs if r.state is RunState.COMPLETED]
    commits = Counter(int(m.group(1)) for m in COMPLETED_LINE.finditer(worker_logs))
    every = blobs.iter_older_than(datetime.now(UTC) + timedelta(days=1))
    keys = [info.key for info in every if info.key.startswith("reports/")]
    locations = Counter(r.location for r in completed)
    stored = Counter(keys)
    not_once = sum(1 for key in set(keys) | set(locations) if stored[key] != 1 or locations[key] != 1)
    delivered = {d.webhook_id for d in deliveries if d.state is DeliveryState.DELIVERED}
    unique = received.unique()
    return Verdict(
        due=due_runs(db),
        runs=len(runs),
        completed=len({(r.report_id, r.run_index) for r in completed}),
        failed=sum(1 for r in runs if r.state is RunState.FAILED),
        completed_twice=sum(1 for n in commits.values() if n > 1),
        files=len(set(keys)),
        files_not_once=not_once,
        callbacks_expected=len(runs),
        callbacks_received=len(delivered & set(unique)),
        bad_signatures=received.bad_signatures,
        kills=kills,
        five_xx=tally.five_xx,
        excused_connection_errors=tally.excused_connection_errors,
        unexplained_connection_errors=len(tally.unexplained_connection_errors),
        unexpected_answers=len(tally.unexpected),
        downloads=tally.downloads,
    )
