"""Coercion of filter values to a column's type (contract section 2: numeric strings are coerced)."""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, date, datetime

from driverlens.catalog import ColumnType
from driverlens.errors import Problem
from driverlens.lenient import echo, echo_text
from driverlens.templates.model import Scalar

MAX_VALUE_LENGTH = 1000
_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_MMDDYY_RE = re.compile(r"^\d{6}$")
_BIGINT_MIN = -(2**63)
_BIGINT_MAX = 2**63 - 1


class CoercionError(ValueError):
    """A value does not convert; the message says what is expected."""


def coerce_scalar(
    raw: object, kind: ColumnType | None, allowed_values: tuple[str, ...], path: str
) -> tuple[Scalar | None, list[Problem]]:
    """Coerce one JSON value; ``kind`` None means any number (the result of AVG)."""
    try:
        return _coerce(raw, kind, allowed_values), []
    except CoercionError as exc:
        return None, [Problem(path, f"{echo_text(raw)} is not allowed: {exc}", value=echo(raw))]


def _coerce(raw: object, kind: ColumnType | None, allowed_values: tuple[str, ...]) -> Scalar:
    if raw is None:
        raise CoercionError("a value is required (null cannot be compared)")
    if isinstance(raw, list | dict):
        raise CoercionError("expected a single value, not a list or object")
    if isinstance(raw, bool):
        raise CoercionError("expected a string or number, not true/false")
    if isinstance(raw, str):
        if len(raw) > MAX_VALUE_LENGTH:
            raise CoercionError(f"values are at most {MAX_VALUE_LENGTH} characters")
        if "\x00" in raw:
            raise CoercionError("values must not contain the NUL character")
    if kind is None:
        return _number(raw)
    if kind is ColumnType.INTEGER:
        return _integer(raw)
    if kind is ColumnType.DATE:
        return _date(raw)
    if kind is ColumnType.TIMESTAMP:
        return _timestamp(raw)
    if kind is ColumnType.UUID:
        return _uuid(raw)
    return _string(raw, allowed_values)


def _integer(raw: object) -> int:
    value: int | None = None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if _INT_RE.match(text):
            value = int(text)
        elif _FLOAT_RE.match(text) and float(text).is_integer() and math.isfinite(float(text)):
            value = int(float(text))
    if value is None:
        raise CoercionError("expected a whole number such as 1000")
    if not _BIGINT_MIN <= value <= _BIGINT_MAX:
        raise CoercionError("the number is out of range for a 64-bit integer")
    return value


def _number(raw: object) -> int | float:
    if isinstance(raw, int):
        return _integer(raw)
    if isinstance(raw, float) and math.isfinite(raw):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if _INT_RE.match(text):
            return _integer(text)
        if _FLOAT_RE.match(text) and math.isfinite(float(text)):
            return float(text)
    raise CoercionError("expected a number such as 2.5")


def _date(raw: object) -> date:
    if isinstance(raw, int) and 0 <= raw <= 999999:
        raw = f"{raw:06d}"
    if isinstance(raw, str):
        text = raw.strip()
        try:
            if _MMDDYY_RE.match(text):
                return datetime.strptime(text, "%m%d%y").date()
            if len(text) == 10:
                return date.fromisoformat(text)
        except ValueError:
            pass
    raise CoercionError("expected a date as yyyy-mm-dd (ISO) or mmddyy")


def _timestamp(raw: object) -> datetime:
    if isinstance(raw, str):
        text = raw.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None and len(text) >= 10:
            if parsed.tzinfo is not None:
                try:
                    parsed = parsed.astimezone(UTC).replace(tzinfo=None)
                except OverflowError as exc:
                    # 0001-01-01T00:00:00+14:00 is before year 1 in UTC (and 9999-12-31...-14:00 after 9999).
                    raise CoercionError(
                        "the timestamp is outside years 1 to 9999 once converted to UTC"
                    ) from exc
            return parsed
    raise CoercionError("expected an ISO timestamp such as 2024-05-01T13:45:00Z")


def _uuid(raw: object) -> uuid.UUID:
    if isinstance(raw, str):
        try:
            return uuid.UUID(raw.strip())
        except ValueError:
            pass
    raise CoercionError("expected a GUID such as 0f8fad5b-d9cb-469f-a165-70867728950e")


def _string(raw: object, allowed_values: tuple[str, ...]) -> str:
    if isinstance(raw, int):
        text = str(raw)
    elif isinstance(raw, float) and math.isfinite(raw):
        text = repr(raw)
    elif isinstance(raw, str):
        text = raw
    else:
        raise CoercionError("expected a string")
    if allowed_values:
        wanted = text.strip().lower()
        for allowed in allowed_values:
            if allowed.lower() == wanted:
                return allowed
        raise CoercionError(f"allowed values: {', '.join(allowed_values)}")
    return text


def split_in_list(raw: str) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]`` (the comma-separated form of an IN value)."""
    return [part.strip() for part in raw.split(",") if part.strip()]
