"""Form fields <-> API bodies, and API problems -> the form field they belong beside.

The form only rearranges what the partner typed into the API's body; validation is the API's own
(``usecases.report_templates``, ``usecases.scheduled_reports``), and its messages are shown next to the
field whose path they name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from driverlens.errors import Problem

TEMPLATE_FIELDS = ("projection", "period", "condition", "aggregates", "having", "orderby", "limit")
REPORT_FIELDS = ("templateId", "startTime", "interval", "recurrence", "format", "callbackUrl")

# The first segment of a problem's path -> the form field it is about.
_TEMPLATE_PATHS = {
    "projection": "projection",
    "daterange": "period",
    "condition": "condition",
    "aggregation": "aggregates",
    "orderby": "orderby",
    "limit": "limit",
}
_REPORT_PATHS = {
    "templateid": "templateId",
    "schedule.starttime": "startTime",
    "schedule.recurrenceinterval": "interval",
    "schedule.recurrence": "recurrence",
    "schedule.callbackurl": "callbackUrl",
    "callbackurl": "callbackUrl",
    "format": "format",
}


@dataclass
class FormState:
    """What the form shows: the values typed, and messages per field ("" for the whole form)."""

    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    @property
    def ok(self) -> bool:
        return not self.errors


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _json(text: str, name: str, state: FormState) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        state.add(name, f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
        return None


def read_form(form: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name) or "")[:20_000] for name in names}


def template_body(view: str, state: FormState) -> dict[str, Any]:
    """The template body the form describes (JSON syntax errors are added to ``state``)."""
    v = state.values
    body: dict[str, Any] = {
        "view": view,
        "projection": _split(v["projection"]),
        "dateRange": {"reportPeriod": v["period"]},
    }
    condition = _json(v["condition"], "condition", state)
    if condition is not None:
        body["condition"] = condition
    aggregates, having = _split(v["aggregates"]), _json(v["having"], "having", state)
    if aggregates or having is not None:
        body["aggregation"] = {"aggregatedColumns": aggregates}
        if having is not None:
            body["aggregation"]["condition"] = having
    orderby = []
    for part in _split(v["orderby"]):
        attribute, _, sort = part.rpartition(" ")
        if sort.lower() in ("asc", "desc") and attribute.strip():
            orderby.append({"attribute": attribute.strip(), "sort": sort.lower()})
        else:
            orderby.append({"attribute": part, "sort": "asc"})
    if orderby:
        body["orderby"] = orderby
    if v["limit"].strip():
        body["limit"] = v["limit"].strip()
    return body


def template_values(body: Mapping[str, Any]) -> dict[str, str]:
    """Form values showing a stored (canonical) template body."""
    aggregation = body.get("aggregation") or {}
    return {
        "projection": ", ".join(body.get("projection", [])),
        "period": str((body.get("dateRange") or {}).get("reportPeriod", "")),
        "condition": json.dumps(body["condition"], indent=2) if body.get("condition") else "",
        "aggregates": ", ".join(aggregation.get("aggregatedColumns", [])),
        "having": json.dumps(aggregation["condition"], indent=2) if aggregation.get("condition") else "",
        "orderby": ", ".join(f"{o['attribute']} {o.get('sort', 'asc')}" for o in body.get("orderby", [])),
        "limit": str(body.get("limit", "")) if body.get("limit") else "",
    }


def place_template_problems(problems: list[Problem], state: FormState) -> None:
    for problem in problems:
        head = problem.path.split(".")[0].split("[")[0].lower()
        name = _TEMPLATE_PATHS.get(head, "")
        if problem.path.lower().startswith("aggregation.condition"):
            name = "having"
        # A problem about the field itself reads best as its message; one deeper in it keeps its path.
        state.add(name, problem.message if name and problem.path.lower() == head else problem.describe())


def report_body(state: FormState, *, creating: bool) -> dict[str, Any]:
    v = state.values
    schedule: dict[str, Any] = {}
    if v["startTime"].strip():
        schedule["startTime"] = _utc(v["startTime"].strip())
    if v["interval"].strip():
        schedule["recurrenceInterval"] = v["interval"].strip()
    if v["recurrence"].strip():
        schedule["recurrence"] = v["recurrence"].strip()
    body: dict[str, Any] = {"schedule": schedule} if schedule or creating else {}
    if v["templateId"].strip():
        body["templateId"] = v["templateId"].strip()
    if v["format"].strip():
        body["format"] = v["format"].strip()
    if v["callbackUrl"].strip():
        body["callbackUrl"] = v["callbackUrl"].strip()
    elif not creating:
        body["callbackUrl"] = None
    return body


def _utc(text: str) -> str:
    """A ``datetime-local`` value (no zone) is UTC, as the form says; anything else is passed on as typed."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def place_report_problems(problems: list[Problem], state: FormState) -> None:
    for problem in problems:
        path = problem.path.lower()
        name = next(
            (
                field
                for prefix, field in _REPORT_PATHS.items()
                if path == prefix or path.startswith(prefix + ".")
            ),
            "",
        )
        state.add(name, problem.message if name else problem.describe())
