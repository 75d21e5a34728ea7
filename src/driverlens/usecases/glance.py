"""Bounded event queries for the dashboard: a template body compiled for the caller and a window.

The dashboard's charts are templates like any partner's: they go through the same parser and the same
compiler, so they are restricted to the caller's rows by the owner column of the caller's view exactly
as reports are, and every one carries a date window and a row limit (no page runs an unbounded query).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from driverlens.compiler import DataWindow, Scope, compile_template
from driverlens.engines import Engine
from driverlens.errors import Problem, ValidationFailed
from driverlens.templates import parse_template
from driverlens.usecases.caller import Caller

MAX_FILTER_LENGTH = 200
WINDOW_DAYS = (30, 90)


@dataclass(frozen=True)
class Filters:
    """Optional equality filters the overview offers (driver, driver version, OS build)."""

    driver: str = ""
    version: str = ""
    os_build: str = ""

    def predicates(self) -> list[dict[str, str]]:
        given = (("DriverName", self.driver), ("DriverVersion", self.version), ("OSVersion", self.os_build))
        return [{"attribute": name, "operator": "EQ", "value": value} for name, value in given if value]


def read_filters(driver: str | None, version: str | None, os_build: str | None) -> Filters:
    problems = [
        Problem(name, f"must be at most {MAX_FILTER_LENGTH} characters")
        for name, value in (("driver", driver), ("version", version), ("os", os_build))
        if value is not None and len(value) > MAX_FILTER_LENGTH
    ]
    if problems:
        raise ValidationFailed(problems)
    return Filters((driver or "").strip(), (version or "").strip(), (os_build or "").strip())


def read_days(raw: str | None) -> int:
    """The overview's window: 30 (default) or 90 days."""
    if raw is None or not raw.strip():
        return WINDOW_DAYS[0]
    if raw.strip() not in {str(d) for d in WINDOW_DAYS}:
        raise ValidationFailed(
            [Problem("days", f"must be one of {', '.join(map(str, WINDOW_DAYS))}", raw[:20])]
        )
    return int(raw)


def last_days(days: int, now: datetime) -> DataWindow:
    """The ``days`` whole UTC days up to and including today."""
    today = now.date()
    return DataWindow(start=today - timedelta(days=days - 1), end=today + timedelta(days=1))


def day_range(window: DataWindow) -> list[date]:
    return [window.start + timedelta(days=i) for i in range(window.days)]


def run_glance(
    engine: Engine,
    caller: Caller,
    body: dict[str, Any],
    window: DataWindow,
    *,
    limit: int,
    timeout_s: float,
) -> list[list[Any]]:
    """Rows of a template body for the caller's scope over ``window`` (at most ``limit``)."""
    template = parse_template(
        {"view": caller.kind.view.value, "dateRange": {"reportPeriod": "Last90Days"}, **body}
    )
    query = compile_template(template, Scope(caller.kind, caller.partner_name), window)
    _columns, rows = engine.preview(query, limit, timeout_s)
    return rows


def where(*predicates: dict[str, Any]) -> dict[str, Any]:
    """A template condition of all ``predicates`` (an empty dict when none)."""
    return {"and": list(predicates)} if predicates else {}
