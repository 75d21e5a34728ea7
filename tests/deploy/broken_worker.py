"""``driverlens worker`` with its lease checks taken out: the chaos test's deliberately broken variant.

Run as ``python -m tests.deploy.broken_worker [worker options]``. Before the real CLI starts, the claim
is replaced by a read followed by a separate write matching the run id alone (no compare-and-set), and
the commit's lease guard by "always true", so two workers can take the same run and both commit it.
Nothing in the production code knows about this module.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, true

from driverlens.metadata import Report, Run, RunState, Template
from driverlens.metadata.database import Database
from driverlens.runs import leases
from driverlens.runs.states import record_transition


def claim_without_compare(
    db: Database, worker_id: str, now: datetime, lease_s: float, **_: Any
) -> Run | None:
    """The oldest claimable run, taken by id in a second transaction (another worker may take it too)."""
    with db.session() as session:
        row = session.execute(
            select(Run.id, Template.current_version)
            .join(Report, Report.id == Run.report_id)
            .join(Template, Template.id == Report.template_id)
            .where(
                Run.state.in_([RunState.PENDING, RunState.IN_PROGRESS]),
                Run.next_attempt_at <= now,
                Report.deleted_at.is_(None),
            )
            .where((Run.state == RunState.PENDING) | (Run.lease_expires_at <= now))
            .order_by(Run.next_attempt_at, Run.id)
            .limit(1)
        ).first()
    if row is None:
        return None
    time.sleep(0.3)  # the gap between read and write that the real claim closes (widened)
    with db.write_session() as session:
        record_transition(
            session, row[0], [RunState.PENDING, RunState.IN_PROGRESS], RunState.IN_PROGRESS, now,
            compare=False, worker_id=worker_id, lease_s=lease_s, template_version=row[1],
        )  # fmt: skip
        return session.get(Run, row[0], populate_existing=True)


def any_worker_holds(_worker_id: str, _now: datetime, _attempt: int | None) -> ColumnElement[bool]:
    return true()


def main() -> None:
    leases.claim = claim_without_compare  # type: ignore[assignment]
    leases._holds_lease = any_worker_holds
    from driverlens.cli.main import app

    app(args=["worker", *sys.argv[1:]])


if __name__ == "__main__":
    main()
