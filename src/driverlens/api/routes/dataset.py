"""Beyond the hosted API: schema discovery and template preview (same envelope, same auth)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from driverlens.api.body import json_body
from driverlens.api.context import ApiContext, get_context
from driverlens.api.envelope import ok
from driverlens.api.schemas import TEMPLATE_SCHEMA, Envelope, PreviewOut, errors, json_body_doc
from driverlens.api.security import principal
from driverlens.auth.principal import Principal
from driverlens.usecases.dataset import describe_for
from driverlens.usecases.preview import PREVIEW_MAX_ROWS, preview_template

router = APIRouter(prefix="/analytics/driver", tags=["discovery"])


@router.get(
    "/dataset",
    summary="Views, columns, operators, aggregates, report periods and limits",
    response_model=Envelope[dict[str, Any]],
    responses=errors(),
)
async def dataset(caller: Principal = Depends(principal), ctx: ApiContext = Depends(get_context)) -> Response:
    described = await run_in_threadpool(describe_for, ctx.events, caller, ctx.settings.max_body_bytes)
    return ok(described)


@router.post(
    "/reporttemplate/preview",
    summary="Run a template now for your scope and return its first rows (at most 100); nothing is stored",
    response_model=Envelope[PreviewOut],
    responses=errors(403),
    openapi_extra=json_body_doc(TEMPLATE_SCHEMA, "A report template."),
)
async def preview(
    top: int | None = Query(None, ge=1, le=PREVIEW_MAX_ROWS, description="At most this many rows (1-100)."),
    caller: Principal = Depends(principal),
    body: Any = Depends(json_body),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    result = await run_in_threadpool(
        preview_template, ctx.engine, caller, body, ctx.now(), ctx.settings.preview_timeout_seconds, top
    )
    return ok(result.to_json())
