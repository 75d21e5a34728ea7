"""Report templates: list, create, edit (each edit a new version), versions, live preview, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from driverlens.auth.web_sessions import SignedIn
from driverlens.catalog import REPORT_PERIODS, columns_of
from driverlens.errors import Forbidden, QueryTimeout, ValidationFailed
from driverlens.usecases import report_templates
from driverlens.usecases.preview import Preview, preview_template
from driverlens.web.forms import TEMPLATE_FIELDS, FormState, place_template_problems, read_form, template_body
from driverlens.web.forms import template_values as values_of
from driverlens.web.render import render
from driverlens.web.session import PageRoute, check_csrf, context, signed_in

router = APIRouter(route_class=PageRoute)

MAX_ID = 2**31 - 1
NEW_TEMPLATE = {
    "projection": "DriverName, DriverVersion, FailureName",
    "period": "Last7Days",
    "condition": "",
    "aggregates": "SUM(EventCount), DCOUNT(DeviceId)",
    "having": "",
    "orderby": "SUM(EventCount) desc",
    "limit": "20",
}


def _page(
    request: Request,
    session: SignedIn,
    state: FormState,
    *,
    status: int = 200,
    record: report_templates.TemplateRecord | None = None,
    preview: Preview | None = None,
    notice: str = "",
) -> Response:
    view = session.principal.kind.view
    return render(
        request,
        "template.html",
        status,
        session=session,
        state=state,
        record=record,
        preview=preview,
        notice=notice,
        view=view.value,
        columns=[c.name for c in columns_of(view)],
        periods=[p.value for p in REPORT_PERIODS],
    )


@router.get("/templates")
async def list_page(request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    ctx = context(request)
    records = await ctx.read(report_templates.list_templates, ctx.db, session.principal)
    return render(request, "templates.html", session=session, records=records)


@router.get("/templates/new")
async def new_page(request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    return _page(request, session, FormState(dict(NEW_TEMPLATE)))


async def _form(request: Request, session: SignedIn) -> FormState:
    form = await request.form()
    check_csrf(form, session)
    return FormState(read_form(form, TEMPLATE_FIELDS))


@router.post("/templates/new")
async def create(request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    ctx = context(request)
    state = await _form(request, session)
    body = template_body(session.principal.kind.view.value, state)
    if state.ok:
        try:
            new_id = await ctx.write(
                report_templates.create_template, ctx.db, session.principal, body, ctx.now()
            )
        except (ValidationFailed, Forbidden) as exc:
            place_template_problems(exc.problems(), state)
        else:
            return RedirectResponse(f"/ui/templates/{new_id}?saved=created", status_code=303)
    return _page(request, session, state, status=400)


@router.get("/templates/{template_id}")
async def edit_page(
    template_id: int,
    request: Request,
    version: int | None = Query(None, ge=1, le=MAX_ID),
    saved: str | None = None,
    session: SignedIn = Depends(signed_in),
) -> Response:
    ctx = context(request)
    record = await ctx.read(
        report_templates.get_template, ctx.db, session.principal, min(template_id, MAX_ID), version
    )
    notice = {"created": "Template created.", "edited": f"Saved as version {record.current_version}."}.get(
        saved or "", ""
    )
    return _page(request, session, FormState(values_of(record.body)), record=record, notice=notice)


@router.post("/templates/{template_id}")
async def edit(template_id: int, request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    ctx = context(request)
    template_id = min(template_id, MAX_ID)
    record = await ctx.read(report_templates.get_template, ctx.db, session.principal, template_id, None)
    state = await _form(request, session)
    body = template_body(session.principal.kind.view.value, state)
    if state.ok:
        try:
            await ctx.write(
                report_templates.edit_template, ctx.db, session.principal, template_id, body, ctx.now()
            )
        except (ValidationFailed, Forbidden) as exc:
            place_template_problems(exc.problems(), state)
        else:
            return RedirectResponse(f"/ui/templates/{template_id}?saved=edited", status_code=303)
    return _page(request, session, state, status=400, record=record)


@router.post("/templates/{template_id}/delete")
async def delete(template_id: int, request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    ctx = context(request)
    check_csrf(await request.form(), session)
    await ctx.write(
        report_templates.delete_template, ctx.db, session.principal, min(template_id, MAX_ID), ctx.now()
    )
    return RedirectResponse("/ui/templates", status_code=303)


@router.post("/preview")
async def preview(request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    """The first rows the form's template gives now: a fragment for the live preview."""
    ctx = context(request)
    state = await _form(request, session)
    body = template_body(session.principal.kind.view.value, state)
    result: Preview | None = None
    if state.ok:
        try:
            result = await run_in_threadpool(
                preview_template,
                ctx.engine,
                session.principal,
                body,
                ctx.now(),
                ctx.settings.preview_timeout_seconds,
            )
        except (ValidationFailed, Forbidden, QueryTimeout) as exc:
            place_template_problems(exc.problems(), state)
    context_: dict[str, Any] = {"preview": result, "state": state}
    return render(request, "_preview.html", **context_)
