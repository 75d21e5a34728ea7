"""A report's run history with callback delivery logs (beyond the hosted API)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from driverlens.api.context import ApiContext, get_context
from driverlens.api.envelope import ok
from driverlens.api.routes.reports import ReportIdPath
from driverlens.api.schemas import Envelope, errors
from driverlens.api.security import principal
from driverlens.auth.principal import Principal
from driverlens.usecases import run_history

router = APIRouter(prefix="/analytics/driver", tags=["scheduled reports"])


@router.get(
    "/report/{reportId}/runs",
    summary="Run history: outcome, rows, checksum, error and callback delivery log of each run",
    response_model=Envelope[list[dict[str, Any]]],
    responses=errors(404),
)
async def get_run_history(
    report_id: ReportIdPath,
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    history = await ctx.read(run_history.run_history, ctx.db, caller, report_id)
    return ok([item.to_json() for item in history])
