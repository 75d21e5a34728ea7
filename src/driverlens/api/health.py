"""Readiness probes and the run-state gauge read by ``/healthz`` and ``/metrics``."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select, text

from driverlens.api.context import ApiContext
from driverlens.errors import DriverLensError
from driverlens.metadata import Run, RunState
from driverlens.metadata.database import Database


def check_readiness(ctx: ApiContext) -> dict[str, str]:
    """``ok`` or the failure, for the metadata store, the event store, the blob store and the disk."""
    checks: dict[str, str] = {}
    try:
        with ctx.db.session() as session:
            session.execute(text("SELECT 1"))
        checks["metadata"] = "ok"
    except Exception as exc:  # any failure means "not ready"; the reason is reported, not raised
        checks["metadata"] = f"failed: {type(exc).__name__}"
    try:
        with ctx.events.reading() as conn:
            conn.execute("SELECT 1 FROM failure_events LIMIT 1").fetchall()
        checks["events"] = "ok"
    except (DriverLensError, Exception) as exc:  # same: report, do not raise
        checks["events"] = f"failed: {type(exc).__name__}"
    try:
        checks["blobs"] = ctx.blobs.readiness()
    except Exception as exc:  # same: report the kind only (an Azure message may carry a URL)
        checks["blobs"] = f"failed: {type(exc).__name__}"
    checks["disk"] = disk_check(ctx.settings.data_dir, ctx.settings.min_free_disk_bytes)
    return checks


def disk_check(data_dir: Path, min_free: int) -> str:
    """``ok`` while the data dir's file system has ``min_free`` bytes free: with less, every run fails."""
    try:
        free = shutil.disk_usage(data_dir).free
    except OSError as exc:
        return f"failed: {type(exc).__name__}"
    if free < min_free:
        return f"failed: {free} bytes free in the data dir, below {min_free}; runs cannot write their files"
    return "ok"


def count_runs_by_state(db: Database) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(select(Run.state, func.count()).group_by(Run.state)).all()
    counts = {state.value: 0 for state in RunState}
    for state, count in rows:
        counts[state.value] = int(count)
    return counts
