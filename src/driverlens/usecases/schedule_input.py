"""Reading a scheduled-report body: tolerant keys, every problem listed, nothing server-owned."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from driverlens import lenient
from driverlens.engines.formats import OutputFormat
from driverlens.errors import Problem, ValidationFailed
from driverlens.usecases.report_templates import reject_server_owned
from driverlens.usecases.timestamps import parse_utc

MIN_INTERVAL_HOURS = 12
MAX_INTERVAL_HOURS = 24 * 366
MAX_RECURRENCE = 1000
MAX_START_PAST = timedelta(days=90)
MAX_START_FUTURE = timedelta(days=5 * 366)
MAX_URL_LENGTH = 2048

TOP_KEYS = ("templateId", "schedule", "callbackUrl", "format")
SCHEDULE_KEYS = ("startTime", "recurrenceInterval", "recurrence", "recurrenceCount", "callbackUrl")
SERVER_OWNED_REPORT_FIELDS = ("reportId", "isActive", "createdDatetime", "modifiedDatetime")

UNSET: Any = object()


@dataclass(frozen=True)
class ReportInput:
    """What a create or edit body asked for; ``None`` means "not given" (``callback_url``: UNSET)."""

    template_id: int | None = None
    start_time: datetime | None = None
    interval_hours: int | None = None
    recurrence: int | None = None
    callback_url: Any = UNSET  # str, None (remove) or UNSET (not given)
    output_format: OutputFormat | None = None

    @property
    def touches_schedule(self) -> bool:
        return any(v is not None for v in (self.start_time, self.interval_hours, self.recurrence))


def _integer(raw: Any, path: str, low: int, high: int, unit: str, problems: list[Problem]) -> int | None:
    value: int | None = None
    if isinstance(raw, bool):
        value = None
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and raw.strip().lstrip("+-").isdigit() and len(raw.strip()) <= 12:
        value = int(raw.strip())
    if value is None:
        problems.append(
            Problem(path, f"must be a whole number of {unit}, got {_show(raw)}", value=_short(raw))
        )
        return None
    if not low <= value <= high:
        problems.append(Problem(path, f"must be between {low} and {high} {unit}, got {value}", value=value))
        return None
    return value


def _show(raw: Any) -> str:
    text = repr(raw) if not isinstance(raw, dict | list) else type(raw).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _short(raw: Any) -> Any:
    return raw if isinstance(raw, int | float | bool) or raw is None else _show(raw)


def _callback(raw: Any, path: str, problems: list[Problem]) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        problems.append(Problem(path, f"must be an absolute http(s) URL string, got {_show(raw)}"))
        return None
    url = raw.strip()
    if len(url) > MAX_URL_LENGTH:
        problems.append(Problem(path, f"must be at most {MAX_URL_LENGTH} characters long"))
        return None
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        problems.append(Problem(path, f"must be an absolute http or https URL, got {_show(url)}", value=url))
        return None
    if parts.username or parts.password:
        problems.append(Problem(path, "must not carry a user name or password", value=None))
        return None
    return url


def parse_report_body(body: Any, *, now: datetime, creating: bool) -> ReportInput:
    """Read a create (``creating``) or edit body; raises ``ValidationFailed`` listing every problem."""
    given, problems = read_report_body(body, now=now, creating=creating)
    if problems:
        raise ValidationFailed(problems)
    return given


def read_report_body(body: Any, *, now: datetime, creating: bool) -> tuple[ReportInput, list[Problem]]:
    """Read a create (``creating``) or edit body: what it asks for, and every problem found."""
    if not isinstance(body, dict):
        return ReportInput(), [Problem("body", "the body must be a JSON object")]
    body, problems = reject_server_owned(body, SERVER_OWNED_REPORT_FIELDS, "scheduled report")
    top, more = lenient.canonical_keys(body, TOP_KEYS, "")
    problems += more

    template_id = None
    if "templateId" in top:
        template_id = _integer(top["templateId"], "templateId", 1, 2**31 - 1, "(a template id)", problems)
    elif creating:
        problems.append(Problem("templateId", "is required: the id of one of your report templates"))

    schedule: dict[str, Any] = {}
    raw_schedule = top.get("schedule")
    if raw_schedule is None:
        if creating:
            problems.append(
                Problem("schedule", "is required: {startTime, recurrenceInterval (hours), recurrence}")
            )
    elif not isinstance(raw_schedule, dict):
        problems.append(Problem("schedule", f"must be an object, got {_show(raw_schedule)}"))
    else:
        schedule, more = lenient.canonical_keys(raw_schedule, SCHEDULE_KEYS, "schedule")
        problems += more
        if "recurrenceCount" in schedule:
            if "recurrence" in schedule:
                problems.append(
                    Problem("schedule.recurrence", "give recurrence or recurrenceCount, not both")
                )
            schedule["recurrence"] = schedule.pop("recurrenceCount")

    start_time = None
    if "startTime" in schedule:
        raw = schedule["startTime"]
        start_time = parse_utc(raw) if isinstance(raw, str) else None
        if start_time is None:
            problems.append(
                Problem(
                    "schedule.startTime",
                    f"must be a UTC time like 2026-01-31T06:00:00Z, got {_show(raw)}",
                    value=_short(raw),
                )
            )
        elif not now - MAX_START_PAST <= start_time <= now + MAX_START_FUTURE:
            problems.append(
                Problem(
                    "schedule.startTime",
                    "must be at most 90 days in the past and 5 years in the future",
                    value=_short(raw),
                )
            )
            start_time = None
    elif creating and isinstance(raw_schedule, dict):
        problems.append(Problem("schedule.startTime", "is required, e.g. 2026-01-31T06:00:00Z"))

    interval = None
    if "recurrenceInterval" in schedule:
        interval = _integer(
            schedule["recurrenceInterval"],
            "schedule.recurrenceInterval",
            MIN_INTERVAL_HOURS,
            MAX_INTERVAL_HOURS,
            "hours",
            problems,
        )
    elif creating and isinstance(raw_schedule, dict):
        problems.append(Problem("schedule.recurrenceInterval", "is required: hours between runs (>= 12)"))

    recurrence = None
    if "recurrence" in schedule:
        recurrence = _integer(
            schedule["recurrence"], "schedule.recurrence", 1, MAX_RECURRENCE, "runs", problems
        )
    elif creating and isinstance(raw_schedule, dict):
        problems.append(Problem("schedule.recurrence", "is required: the number of runs (>= 1)"))

    callback: Any = UNSET
    if "callbackUrl" in top and "callbackUrl" in schedule:
        problems.append(Problem("callbackUrl", "give callbackUrl once, at the top level or inside schedule"))
    elif "callbackUrl" in top:
        callback = _callback(top["callbackUrl"], "callbackUrl", problems)
    elif "callbackUrl" in schedule:
        callback = _callback(schedule["callbackUrl"], "schedule.callbackUrl", problems)

    output_format = None
    if "format" in top:
        raw = top["format"]
        try:
            output_format = OutputFormat.parse(raw) if isinstance(raw, str) else None
        except ValueError:
            output_format = None
        if output_format is None:
            allowed = ", ".join(f.value for f in OutputFormat)
            problems.append(
                Problem("format", f"must be one of {allowed}, got {_show(raw)}", value=_short(raw))
            )

    result = ReportInput(template_id, start_time, interval, recurrence, callback, output_format)
    if not creating and not problems and result == ReportInput():
        problems.append(Problem("body", "nothing to change: give templateId and/or schedule"))
    return result, problems
