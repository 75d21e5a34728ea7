"""Per-partner limits: runs queued or running, catch-up runs per schedule, bytes of report files kept.

One partner must not be able to fill the queue or the disk for everyone: manual runs beyond the active
limit are refused (429), runs of a partner over its storage are refused (409) or failed with a message
saying what to do, and the planner keeps at most a few catch-up runs of one schedule queued at a time
(the rest are queued as those finish, so every missed run still runs, each with its own window).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from driverlens.errors import Conflict, RateLimited
from driverlens.metadata import RunState
from driverlens.metadata.repositories import runs as repo
from driverlens.settings import Settings

ACTIVE = (RunState.PENDING, RunState.IN_PROGRESS)


@dataclass(frozen=True)
class PartnerLimits:
    """The limits in force; defaults match the settings' defaults."""

    max_active_runs: int = 20
    max_catch_up_runs: int = 3
    max_stored_bytes: int = 2_000_000_000

    @classmethod
    def from_settings(cls, settings: Settings) -> PartnerLimits:
        return cls(
            max_active_runs=settings.partner_max_active_runs,
            max_catch_up_runs=settings.max_catch_up_runs,
            max_stored_bytes=settings.partner_max_stored_bytes,
        )


class RunQuotaExceeded(RateLimited):
    code = "RunQuotaExceeded"


class StorageQuotaExceeded(Conflict):
    code = "StorageQuotaExceeded"


def active_runs(session: Session, partner_id: int) -> int:
    """The partner's runs that are queued (Pending) or running."""
    return repo.partner_run_count(session, partner_id, ACTIVE)


def stored_bytes(session: Session, partner_id: int) -> int:
    """Bytes of the partner's report files still kept (completed runs whose file is not purged)."""
    return repo.partner_stored_bytes(session, partner_id)


def storage_message(used: int, limit: int) -> str:
    return (
        f"your report files take {used} bytes, at or over your limit of {limit} bytes; delete reports you "
        "no longer need (DELETE /analytics/driver/report/{reportId} removes their files) or wait for "
        "files to expire, then run again"
    )


def check_new_manual_run(session: Session, partner_id: int, limits: PartnerLimits) -> None:
    """Raise when the partner may not queue another run now."""
    active = active_runs(session, partner_id)
    if active >= limits.max_active_runs:
        raise RunQuotaExceeded(
            f"you have {active} runs queued or running, the most allowed at once is "
            f"{limits.max_active_runs}; wait for some to finish (see GET /analytics/driver/report/"
            "{reportId}/runs) and try again",
            retry_after_seconds=60,
        )
    used = stored_bytes(session, partner_id)
    if used >= limits.max_stored_bytes:
        raise StorageQuotaExceeded(storage_message(used, limits.max_stored_bytes))
