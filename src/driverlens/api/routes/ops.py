"""Operational endpoints: health and Prometheus metrics (no auth, no envelope)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response

from driverlens.api.context import ApiContext, get_context
from driverlens.api.health import check_readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness and readiness", responses={503: {"description": "Not ready"}})
async def healthz(ctx: ApiContext = Depends(get_context)) -> Response:
    """Alive when it answers; ready (200) when the metadata, event and blob stores answer and disk is free."""
    checks = await run_in_threadpool(check_readiness, ctx)
    ready = all(value == "ok" for value in checks.values())
    body = {"live": True, "ready": ready, "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/healthz/live", summary="Liveness only (no dependency checked)")
async def live() -> Response:
    return JSONResponse({"live": True})


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(ctx: ApiContext = Depends(get_context)) -> Response:
    text = await run_in_threadpool(ctx.metrics.render)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
