"""Template preview: run a template body now for the caller's scope; nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from driverlens.compiler import Scope, compile_template, window_for
from driverlens.engines import Engine
from driverlens.usecases.caller import Caller
from driverlens.usecases.report_templates import validate_template_body

PREVIEW_MAX_ROWS = 100


@dataclass(frozen=True)
class Preview:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    window_start: str
    window_end: str

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "rows": self.rows,
            "rowCount": len(self.rows),
            "truncated": self.truncated,
            "window": {"startDate": self.window_start, "endDate": self.window_end},
        }


def preview_template(
    engine: Engine, caller: Caller, body: Any, now: datetime, timeout_s: float, top: int | None = None
) -> Preview:
    """The first rows (at most ``top``, the template's limit and 100) a run due now would produce;
    ``QueryTimeout`` past the budget."""
    template = validate_template_body(caller, body)
    window = window_for(template.report_period, now)
    query = compile_template(template, Scope(caller.kind, caller.partner_name), window)
    wanted = min(template.limit or PREVIEW_MAX_ROWS, top or PREVIEW_MAX_ROWS, PREVIEW_MAX_ROWS)
    columns, rows = engine.preview(query, wanted + 1, timeout_s)
    truncated = len(rows) > wanted
    return Preview(
        columns=columns,
        rows=rows[:wanted],
        truncated=truncated,
        window_start=window.start.isoformat(),
        window_end=(window.end).isoformat(),
    )
