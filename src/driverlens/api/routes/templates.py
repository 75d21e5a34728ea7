"""Report templates: create, list, get (any version), edit, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from driverlens.api.body import json_body
from driverlens.api.context import ApiContext, get_context
from driverlens.api.envelope import ok
from driverlens.api.schemas import TEMPLATE_SCHEMA, Envelope, TemplateId, TemplateOut, errors, json_body_doc
from driverlens.api.security import principal
from driverlens.auth.principal import Principal
from driverlens.usecases import report_templates

router = APIRouter(prefix="/analytics/driver", tags=["report templates"])

MAX_ID = 2**31 - 1
TemplateIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, alias="templateId", description="Id of one of your templates.")
]
_BODY = json_body_doc(TEMPLATE_SCHEMA, "A report template.")


@router.post(
    "/reporttemplate",
    status_code=201,
    summary="Create a report template",
    response_model=Envelope[TemplateId],
    responses=errors(403),
    openapi_extra=_BODY,
)
async def create_template(
    caller: Principal = Depends(principal),
    body: Any = Depends(json_body),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    template_id = await report_templates.add_template(ctx.db, caller, body, ctx.now())
    return ok({"templateId": template_id}, 201)


@router.get(
    "/reporttemplate",
    summary="List your report templates",
    response_model=Envelope[list[TemplateOut]],
    responses=errors(),
)
async def list_templates(
    caller: Principal = Depends(principal), ctx: ApiContext = Depends(get_context)
) -> Response:
    records = await ctx.read(report_templates.list_templates, ctx.db, caller)
    return ok([record.to_json() for record in records])


@router.get(
    "/reporttemplate/{templateId}",
    summary="Get a report template (current version, or ?version=N)",
    response_model=Envelope[TemplateOut],
    responses=errors(404),
)
async def get_template(
    template_id: TemplateIdPath,
    version: int | None = Query(None, ge=1, le=MAX_ID, description="An older version to show."),
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    record = await ctx.read(report_templates.get_template, ctx.db, caller, template_id, version)
    return ok(record.to_json())


@router.post(
    "/reporttemplate/{templateId}",
    status_code=201,
    summary="Edit a report template (full replacement; makes a new version)",
    response_model=Envelope[TemplateId],
    responses=errors(403, 404),
    openapi_extra=_BODY,
)
async def edit_template(
    template_id: TemplateIdPath,
    caller: Principal = Depends(principal),
    body: Any = Depends(json_body),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    edited = await ctx.write(report_templates.edit_template, ctx.db, caller, template_id, body, ctx.now())
    return ok({"templateId": edited}, 201)


@router.delete(
    "/reporttemplate/{templateId}",
    summary="Delete a report template (refused while a scheduled report uses it)",
    response_model=Envelope[TemplateId],
    responses=errors(404, 409),
)
async def delete_template(
    template_id: TemplateIdPath,
    caller: Principal = Depends(principal),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    await ctx.write(report_templates.delete_template, ctx.db, caller, template_id, ctx.now())
    return ok({"templateId": template_id})
