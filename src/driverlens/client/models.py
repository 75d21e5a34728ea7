"""Small typed values returned by the client, each built from the server's JSON (kept in ``raw``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

RUN_STATES = ("Pending", "In Progress", "Completed", "Failed", "Skipped")


def parse_time(value: Any) -> datetime | None:
    """An ISO timestamp from the server as an aware UTC datetime (None when absent or unreadable)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ`` (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_param(value: date | datetime | str) -> str:
    """A ``yyyy-mm-dd`` query value (aware datetimes are taken in UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat() if value.tzinfo else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@dataclass(frozen=True)
class TemplateInfo:
    template_id: int
    template: dict[str, Any]
    version: int | None
    current_version: int | None
    created: datetime | None
    modified: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TemplateInfo:
        body = data.get("template")
        return cls(
            template_id=int(data["templateId"]),
            template=body if isinstance(body, dict) else {},
            version=_int(data.get("version")),
            current_version=_int(data.get("currentVersion")),
            created=parse_time(data.get("createdDatetime")),
            modified=parse_time(data.get("modifiedDatetime")),
            raw=data,
        )


@dataclass(frozen=True)
class Schedule:
    start_time: datetime | None
    recurrence_interval: int | None
    recurrence: int | None
    callback_url: str | None

    @classmethod
    def from_json(cls, data: Any) -> Schedule:
        data = data if isinstance(data, dict) else {}
        callback = data.get("callbackUrl")
        return cls(
            start_time=parse_time(data.get("startTime")),
            recurrence_interval=_int(data.get("recurrenceInterval")),
            recurrence=_int(data.get("recurrence")),
            callback_url=callback if isinstance(callback, str) else None,
        )


@dataclass(frozen=True)
class ReportInfo:
    report_id: int
    template_id: int
    schedule: Schedule
    callback_url: str | None
    format: str | None
    is_active: bool
    is_paused: bool
    created: datetime | None
    modified: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportInfo:
        schedule = Schedule.from_json(data.get("schedule"))
        callback = data.get("callbackUrl")
        fmt = data.get("format")
        return cls(
            report_id=int(data["reportId"]),
            template_id=int(data["templateId"]),
            schedule=schedule,
            callback_url=callback if isinstance(callback, str) else schedule.callback_url,
            format=fmt if isinstance(fmt, str) else None,
            is_active=bool(data.get("isActive")),
            is_paused=bool(data.get("isPaused")),
            created=parse_time(data.get("createdDatetime")),
            modified=parse_time(data.get("modifiedDatetime")),
            raw=data,
        )


@dataclass(frozen=True)
class DeltaSummary:
    """What a delta report's run found against the report's previous completed run.

    ``baseline`` is True for a run with nothing to compare with (its file lists every bucket as
    ``Baseline``; ``reason`` says why); otherwise ``compared_with`` is the previous run's due time.
    """

    baseline: bool
    new: int
    regressed: int
    resolved: int
    buckets: int | None = None
    compared_with: datetime | None = None
    reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def changed(self) -> int:
        return self.new + self.regressed + self.resolved

    @classmethod
    def from_json(cls, data: Any) -> DeltaSummary | None:
        """None for a run of a report without a delta block (``data`` null or absent)."""
        if not isinstance(data, dict):
            return None
        return cls(
            baseline=bool(data.get("baseline")),
            new=_int(data.get("new")) or 0,
            regressed=_int(data.get("regressed")) or 0,
            resolved=_int(data.get("resolved")) or 0,
            buckets=_int(data.get("buckets")),
            compared_with=parse_time(data.get("comparedWithReportDatetime")),
            reason=str(data["reason"]) if data.get("reason") else None,
            raw=data,
        )


@dataclass(frozen=True)
class ReportRun:
    """One item of report data: a run, its state and (when Completed) a fresh download link."""

    report_id: int
    due: datetime
    status: str
    location: str
    sha256: str | None = None
    delta: DeltaSummary | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_completed(self) -> bool:
        return self.status == "Completed"

    @property
    def is_failed(self) -> bool:
        return self.status == "Failed"

    @property
    def is_finished(self) -> bool:
        return self.status in ("Completed", "Failed", "Skipped")

    @classmethod
    def from_json(cls, report_id: int, data: dict[str, Any]) -> ReportRun:
        due = parse_time(data.get("ReportDatetime"))
        if due is None:
            raise ValueError(f"report data item without a readable ReportDatetime: {data!r}")
        checksum = next(
            (data[k] for k in ("ReportSha256", "sha256", "Sha256") if isinstance(data.get(k), str)), None
        )
        return cls(
            report_id=report_id,
            due=due,
            status=str(data.get("ReportStatus") or ""),
            location=str(data.get("ReportLocation") or ""),
            sha256=checksum.lower() if checksum else None,
            delta=DeltaSummary.from_json(data.get("Delta")),
            raw=data,
        )


@dataclass(frozen=True)
class RunStarted:
    report_id: int
    due: datetime
    status: str


@dataclass(frozen=True)
class Preview:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    window_start: str | None
    window_end: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Preview:
        window = data.get("window") if isinstance(data.get("window"), dict) else {}
        assert isinstance(window, dict)
        return cls(
            columns=[str(c) for c in data.get("columns") or []],
            rows=[list(r) for r in data.get("rows") or []],
            truncated=bool(data.get("truncated")),
            window_start=window.get("startDate"),
            window_end=window.get("endDate"),
        )


@dataclass(frozen=True)
class CabItem:
    application_id: str | None
    submission_id: str | None
    failure_hash: str
    cab_id_hash: str
    cab_url: str
    date: str
    cab_expiration_time: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CabItem:
        return cls(
            application_id=data.get("applicationId"),
            submission_id=data.get("submissionId"),
            failure_hash=str(data.get("failureHash") or ""),
            cab_id_hash=str(data.get("cabIdHash") or ""),
            cab_url=str(data.get("cabUrl") or ""),
            date=str(data.get("date") or ""),
            cab_expiration_time=parse_time(data.get("cabExpirationTime")),
        )


@dataclass(frozen=True)
class CabPage:
    items: list[CabItem]
    next_link: str | None
    total_count: int


@dataclass(frozen=True)
class DownloadResult:
    path: Path
    bytes: int
    sha256: str
    resumed_from: int
    verified: bool
    """True when the checksum was compared with an expected or server-provided value."""
    seconds: float = 0.0
    """Wall time of the transfer, retries included."""


@dataclass(frozen=True)
class TransferProgress:
    """Bytes received so far of ``total`` (None when the server did not say)."""

    received: int
    total: int | None
    resumed_from: int


@dataclass(frozen=True)
class WaitProgress:
    """One poll of ``wait_for_completed_run``: the newest run considered (None: none yet)."""

    elapsed_s: float
    polls: int
    run: ReportRun | None
