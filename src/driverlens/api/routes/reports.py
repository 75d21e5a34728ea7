"""Scheduled reports: create, list, get, edit, pause, resume, delete, run now; and report data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from driverlens.api.body import json_body
from driverlens.api.context import ApiContext, get_context
from driverlens.api.envelope import ok
from driverlens.api.schemas import (
    REPORT_CREATE_SCHEMA,
    REPORT_EDIT_SCHEMA,
    Envelope,
    ReportDataItemOut,
    ReportId,
    ReportOut,
    RunStarted,
    errors,
    json_body_doc,
)
from driverlens.api.security import principal
from driverlens.auth.principal import Principal
from driverlens.callbacks.ssrf import UnresolvedHost
from driverlens.errors import ValidationFailed
from driverlens.runs.quotas import PartnerLimits
from driverlens.usecases import reportdata, scheduled_reports
from driverlens.usecases.timestamps import iso_utc

router = APIRouter(prefix="/analytics/driver", tags=["scheduled reports"])

MAX_ID = 2**31 - 1
DATE: dict[str, Any] = {"format": "date", "examples": ["2026-01-31"]}
ReportIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, alias="reportId", description="Id of one of your scheduled reports.")
]


def callback_check(ctx: ApiContext) -> scheduled_reports.CallbackCheck:
    def check(url: str) -> str | None:
        try:
            ctx.callback_guard.check_url(url)
        except UnresolvedHost:
            return None  # well-formed; the name is resolved and checked again at every delivery
        except ValidationFailed as exc:
            return "; ".join(p.message for p in exc.problems())
        return None

    return check


def _date_query(name: str) -> dict[str, Any]:
    schema = {"type": "string", "description": "yyyy-mm-dd (inclusive).", **DATE, "title": name.title()}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": schema["description"],
    }


# Report data first: it is the polled route, and routes are matched in order (no other path here
# overlaps it).
@router.get(
    "/reportdata/{reportId}",
    summary="Runs of a report due between two dates, with fresh download links",
    response_model=Envelope[list[ReportDataItemOut]],
    responses=errors(404),
    # The dates are read from the query string directly (the route is polled; FastAPI's per-parameter
    # work costs more than the lookup) and documented here; missing or bad ones get our 400 envelope.
    openapi_extra={"parameters": [_date_query("startDate"), _date_query("endDate")]},
)
async def get_report_data(
    report_id: ReportIdPath,
    request: Request,
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    query = request.query_params
    first, last = reportdata.parse_date_range(query.get("startDate"), query.get("endDate"))
    items = await ctx.read(reportdata.report_data, ctx.db, caller, report_id, first, last, ctx.link)
    return ok([item.to_json() for item in items])


@router.post(
    "/report",
    status_code=201,
    summary="Schedule a report",
    response_model=Envelope[ReportId],
    responses=errors(),
    openapi_extra=json_body_doc(REPORT_CREATE_SCHEMA, "A scheduled report."),
)
async def create_report(
    caller: Principal = Depends(principal),
    body: Any = Depends(json_body),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    report_id = await ctx.write(
        scheduled_reports.create_report, ctx.db, caller, body, ctx.now(), callback_check(ctx)
    )
    return ok({"reportId": report_id}, 201)


@router.get(
    "/report",
    summary="List your scheduled reports",
    response_model=Envelope[list[ReportOut]],
    responses=errors(),
)
async def list_reports(
    caller: Principal = Depends(principal), ctx: ApiContext = Depends(get_context)
) -> Response:
    records = await ctx.read(scheduled_reports.list_reports, ctx.db, caller)
    return ok([record.to_json() for record in records])


@router.get(
    "/report/{reportId}",
    summary="Get a scheduled report",
    response_model=Envelope[ReportOut],
    responses=errors(404),
)
async def get_report(
    report_id: ReportIdPath,
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    return ok((await ctx.read(scheduled_reports.get_report, ctx.db, caller, report_id)).to_json())


@router.post(
    "/report/{reportId}",
    status_code=201,
    summary="Edit a scheduled report (template and/or schedule)",
    response_model=Envelope[ReportId],
    responses=errors(404),
    openapi_extra=json_body_doc(REPORT_EDIT_SCHEMA, "The fields to change."),
)
async def edit_report(
    report_id: ReportIdPath,
    caller: Principal = Depends(principal),
    body: Any = Depends(json_body),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    edited = await ctx.write(
        scheduled_reports.edit_report, ctx.db, caller, report_id, body, ctx.now(), callback_check(ctx)
    )
    return ok({"reportId": edited}, 201)


@router.delete(
    "/report/{reportId}",
    summary="Delete a scheduled report",
    response_model=Envelope[ReportId],
    responses=errors(404),
)
async def delete_report(
    report_id: ReportIdPath,
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    await ctx.write(scheduled_reports.delete_report, ctx.db, caller, report_id, ctx.now(), ctx.blobs)
    return ok({"reportId": report_id})


@router.post(
    "/report/pause/{reportId}",
    status_code=201,
    summary="Pause a scheduled report",
    response_model=Envelope[ReportId],
    responses=errors(404),
)
async def pause_report(
    report_id: ReportIdPath,
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    paused = await ctx.write(scheduled_reports.pause_report, ctx.db, caller, report_id, ctx.now())
    return ok({"reportId": paused}, 201)


@router.post(
    "/report/resume/{reportId}",
    status_code=201,
    summary="Resume a paused report (runs due while paused are skipped)",
    response_model=Envelope[ReportId],
    responses=errors(404),
)
async def resume_report(
    report_id: ReportIdPath,
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    resumed = await ctx.write(scheduled_reports.resume_report, ctx.db, caller, report_id, ctx.now())
    return ok({"reportId": resumed}, 201)


@router.post(
    "/report/{reportId}/run",
    status_code=201,
    summary="Start an extra run now (outside the schedule's count)",
    response_model=Envelope[RunStarted],
    responses=errors(404, 409),
)
async def run_report_now(
    report_id: ReportIdPath,
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    limits = PartnerLimits.from_settings(ctx.settings)
    run = await ctx.write(scheduled_reports.run_now, ctx.db, caller, report_id, ctx.now(), limits)
    data = {"reportId": report_id, "ReportDatetime": iso_utc(run.due_at), "ReportStatus": run.state.value}
    return ok(data, 201)
