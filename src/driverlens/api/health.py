"""Readiness probes and the run-state gauge read by ``/healthz`` and ``/metrics``."""

from __future__ import annotations

import shutil
from pathlib import Path

from driverlens.api.context import ApiContext
from driverlens.errors import DriverLensError
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import runs as runs_repo


def check_readiness(ctx: ApiContext) -> dict[str, str]:
    """``ok`` or the failure, for the metadata store, the event store, the blob store and the disk."""
    checks: dict[str, str] = {}
    try:
        ctx.db.ping()
        checks["metadata"] = "ok"
    except Exception as exc:  # any failure means "not ready"; the reason is reported, not raised
        checks["metadata"] = f"failed: {type(exc).__name__}"
    try:
        ctx.events.ping()
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
    return runs_repo.count_by_state(db)
