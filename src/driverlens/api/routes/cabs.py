"""Crash dump (CAB) downloads: single CABs by redirect to a signed link, and a paged batch listing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from driverlens.api.context import ApiContext, get_context
from driverlens.api.envelope import EnvelopeResponse
from driverlens.api.schemas import ErrorItem, errors
from driverlens.api.security import principal
from driverlens.auth.principal import Principal
from driverlens.catalog import PartnerKind
from driverlens.usecases import cab_downloads

router = APIRouter(prefix="/v1.0/my/analytics", tags=["crash dumps"])

DATE: dict[str, Any] = {"format": "date", "examples": ["2026-01-31"]}
_REDIRECT: dict[int | str, dict[str, Any]] = {
    302: {"description": "Location is a signed, expiring URL of the CAB file."}
}


class CabItem(BaseModel):
    applicationId: str | None
    submissionId: str | None
    failureHash: str
    cabIdHash: str
    cabUrl: str
    date: str
    cabExpirationTime: str


class CabPageData(BaseModel):
    Value: list[CabItem]
    nextLink: str | None = Field(None, alias="@nextLink")
    TotalCount: int


class CabPageOut(BaseModel):
    """The Dev Center shape (Value, @nextLink, TotalCount), also mirrored in the envelope's data."""

    Value: list[CabItem]
    nextLink: str | None = Field(None, alias="@nextLink")
    TotalCount: int
    data: CabPageData
    errors: list[ErrorItem]


def _redirect(ctx: ApiContext, row: cab_downloads.CabRow) -> Response:
    url = cab_downloads.cab_link(row, ctx.link)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


@router.get(
    "/driver/cabdownload",
    summary="Download a CAB of your driver's failure (IHV)",
    status_code=302,
    response_class=RedirectResponse,
    responses={**_REDIRECT, **errors(403, 404)},
)
def driver_cab(
    application_id: str | None = Query(None, alias="applicationId", max_length=200),
    cab_id_hash: str | None = Query(None, alias="cabIdHash", max_length=200),
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    cab_downloads.require_kind(caller, PartnerKind.IHV, "driver/cabdownload")
    row = cab_downloads.find_cab(ctx.events, ctx.db, caller, cab_id_hash, application_id, ctx.now())
    return _redirect(ctx, row)


@router.get(
    "/hardware/cabdownload",
    summary="Download a CAB of a failure on your machines (OEM)",
    status_code=302,
    response_class=RedirectResponse,
    responses={**_REDIRECT, **errors(403, 404)},
)
def hardware_cab(
    cab_id_hash: str | None = Query(None, alias="cabIdHash", max_length=200),
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    cab_downloads.require_kind(caller, PartnerKind.OEM, "hardware/cabdownload")
    row = cab_downloads.find_cab(ctx.events, ctx.db, caller, cab_id_hash, None, ctx.now())
    return _redirect(ctx, row)


@router.get(
    "/driver/cabdownloadbatch",
    summary="List the CABs of one failure of your driver, newest first (IHV)",
    response_model=CabPageOut,
    responses=errors(403),
)
def driver_cab_batch(
    application_id: str | None = Query(None, alias="applicationId", max_length=200),
    failure_hash: str | None = Query(None, alias="failureHash", max_length=200),
    start_date: str | None = Query(None, alias="startDate", max_length=40, json_schema_extra=DATE),
    end_date: str | None = Query(None, alias="endDate", max_length=40, json_schema_extra=DATE),
    top: int = Query(cab_downloads.MAX_TOP, ge=1, le=cab_downloads.MAX_TOP),
    skip: int = Query(0, ge=0, le=10_000_000),
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    page = cab_downloads.list_cabs(
        ctx.events,
        ctx.db,
        caller,
        application_id=application_id,
        failure_hash=failure_hash,
        start_date=start_date,
        end_date=end_date,
        top=top,
        skip=skip,
        now=ctx.now(),
    )
    items = [row.to_json(cab_downloads.cab_link(row, ctx.link)) for row in page.rows]
    data: dict[str, Any] = {"Value": items, "TotalCount": page.total}
    if page.has_more:
        params = {
            "applicationId": application_id or "",
            "failureHash": failure_hash or "",
            **({"startDate": start_date} if start_date else {}),
            **({"endDate": end_date} if end_date else {}),
            "top": str(top),
            "skip": str(skip + top),
        }
        base = ctx.settings.public_base_url.rstrip("/")
        data["@nextLink"] = f"{base}/v1.0/my/analytics/driver/cabdownloadbatch?{urlencode(params)}"
    return EnvelopeResponse({**data, "data": data, "errors": []})
