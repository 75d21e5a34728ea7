"""The `{"data", "errors"}` envelope every analytics response is wrapped in."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.responses import Response

from driverlens.errors import DriverLensError, Problem


def error_item(code: str, message: str, target: str | None, tracking_id: str) -> dict[str, Any]:
    """One error item of the envelope."""
    return {"code": code, "message": message, "target": target or None, "trackingId": tracking_id}


def problem_items(problems: list[Problem], tracking_id: str) -> list[dict[str, Any]]:
    return [error_item(p.code, p.describe(), p.path or None, tracking_id) for p in problems]


def error_items(exc: DriverLensError, tracking_id: str) -> list[dict[str, Any]]:
    """Every problem an error carries, as envelope items."""
    return problem_items(exc.problems(), tracking_id)


def _dumps(payload: Any) -> bytes:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate quoted back from some input: the envelope must still go out, so it becomes
        # U+FFFD rather than failing the response (inputs are refused before they get this far).
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


_SURROGATE = re.compile("[\ud800-\udfff]")


class EnvelopeResponse(Response):
    """A JSON response already shaped as an envelope (or any JSON payload)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _dumps(content)


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> EnvelopeResponse:
    """A success envelope."""
    return EnvelopeResponse({"data": data, "errors": []}, status_code=status, headers=headers)


def failure(
    status: int, items: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> EnvelopeResponse:
    """An error envelope."""
    return EnvelopeResponse({"data": None, "errors": items}, status_code=status, headers=headers)
