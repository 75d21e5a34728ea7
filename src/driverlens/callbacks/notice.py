"""The JSON notice POSTed when a run ends: what happened and which report data URL to call."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from driverlens.clock import ensure_utc


def report_data_url(public_base_url: str, report_id: int, day: date) -> str:
    """Absolute report data URL listing the runs due on ``day`` (the one that just ended among them)."""
    query = urlencode({"startDate": day.isoformat(), "endDate": day.isoformat()})
    return f"{public_base_url.rstrip('/')}/analytics/driver/reportdata/{report_id}?{query}"


def build_notice(
    *,
    report_id: int,
    report_datetime: datetime,
    status: str,
    row_count: int | None,
    public_base_url: str,
    delta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The notice; ``delta`` (delta reports only) carries the counts of new, regressed and resolved
    buckets, so a receiver can alert without downloading the file."""
    due = ensure_utc(report_datetime)
    notice: dict[str, Any] = {
        "reportId": report_id,
        "ReportDatetime": due.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ReportStatus": status,
        "rowCount": row_count,
        "reportDataUrl": report_data_url(public_base_url, report_id, due.date()),
    }
    if delta is not None:
        notice["delta"] = delta
    return notice


def encode_notice(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys in the order given."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
