"""Datetime text as the API shows and accepts it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from driverlens.clock import ensure_utc

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso_utc(value: datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ`` (whole seconds, UTC)."""
    v = value if value.tzinfo is UTC else ensure_utc(value)
    if v.year < 1000:  # strftime does not pad such years; keep its spelling
        return v.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{v.year}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def parse_utc(text: str) -> datetime | None:
    """A timestamp in ``yyyy-MM-ddTHH:mm:ssZ`` or a tolerant ISO form; naive means UTC; None if invalid."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 40:
        return None
    if _DATE.match(cleaned):
        cleaned += "T00:00:00"
    if cleaned[-1:] in ("z", "Z"):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(cleaned.replace(" ", "T", 1))
    except ValueError:
        return None
    if not 2000 <= parsed.year <= 2199:
        return None
    return ensure_utc(parsed).astimezone(UTC)


def parse_day(text: str) -> date | None:
    """An ISO ``yyyy-mm-dd`` date (years 1970 to 9998, so day arithmetic cannot overflow), or None."""
    cleaned = text.strip()
    if not _DATE.match(cleaned):
        return None
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        return None
    return day if 1970 <= day.year <= 9998 else None
