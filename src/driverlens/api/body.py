"""Request bodies are read raw and decoded leniently (comments allowed, any Content-Type)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from driverlens import lenient
from driverlens.errors import Problem, ValidationFailed


async def json_body(request: Request) -> Any:
    """The decoded JSON body; 400 when empty or not JSON (comments are fine)."""
    raw = await request.body()
    if not raw.strip():
        raise ValidationFailed([Problem("body", "the request body is empty; send a JSON object")])
    return lenient.loads(raw)


async def json_object_body(request: Request) -> dict[str, Any]:
    """The decoded JSON body, which must be an object."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ValidationFailed(
            [Problem("body", f"the body must be a JSON object, got {type(body).__name__}", value=None)]
        )
    return body
