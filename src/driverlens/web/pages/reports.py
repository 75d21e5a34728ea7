"""Scheduled reports: list, create, edit, pause, resume, run now, delete; run history with downloads."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from driverlens.api.routes.reports import callback_check
from driverlens.auth.web_sessions import SignedIn
from driverlens.engines.formats import OutputFormat
from driverlens.errors import ValidationFailed
from driverlens.usecases import report_templates, run_history, scheduled_reports
from driverlens.web.forms import REPORT_FIELDS, FormState, place_report_problems, read_form, report_body
from driverlens.web.render import render
from driverlens.web.session import PageRoute, check_csrf, context, signed_in

router = APIRouter(route_class=PageRoute)

MAX_ID = 2**31 - 1


async def _page(
    request: Request,
    session: SignedIn,
    state: FormState,
    *,
    status: int = 200,
    record: scheduled_reports.ReportRecord | None = None,
    notice: str = "",
) -> Response:
    ctx = context(request)
    owned = await ctx.read(report_templates.list_templates, ctx.db, session.principal)
    history = (
        await ctx.read(run_history.run_history, ctx.db, session.principal, record.report_id) if record else []
    )
    return render(
        request,
        "report.html",
        status,
        session=session,
        state=state,
        record=record,
        templates=owned,
        formats=[f.value for f in OutputFormat],
        history=history,
        notice=notice,
    )


def _values(record: scheduled_reports.ReportRecord) -> dict[str, str]:
    return {
        "templateId": str(record.template_id),
        "startTime": record.start_time.strftime("%Y-%m-%dT%H:%M"),
        "interval": str(record.interval_hours),
        "recurrence": str(record.recurrence),
        "format": record.output_format,
        "callbackUrl": record.callback_url or "",
    }


@router.get("/reports")
async def list_page(request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    ctx = context(request)
    records = await ctx.read(scheduled_reports.list_reports, ctx.db, session.principal)
    return render(request, "reports.html", session=session, records=records)


@router.get("/reports/new")
async def new_page(request: Request, template: str = "", session: SignedIn = Depends(signed_in)) -> Response:
    start = (context(request).now() + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    values = {
        "templateId": template[:12],
        "startTime": start,
        "interval": "24",
        "recurrence": "7",
        "format": "csv",
    }
    return await _page(request, session, FormState({**dict.fromkeys(REPORT_FIELDS, ""), **values}))


async def _form(request: Request, session: SignedIn) -> FormState:
    form = await request.form()
    check_csrf(form, session)
    return FormState(read_form(form, REPORT_FIELDS))


@router.post("/reports/new")
async def create(request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    ctx = context(request)
    state = await _form(request, session)
    body = report_body(state, creating=True)
    try:
        new_id = await ctx.write(
            scheduled_reports.create_report, ctx.db, session.principal, body, ctx.now(), callback_check(ctx)
        )
    except ValidationFailed as exc:
        place_report_problems(exc.problems(), state)
        return await _page(request, session, state, status=400)
    return RedirectResponse(f"/ui/reports/{new_id}?saved=created", status_code=303)


@router.get("/reports/{report_id}")
async def detail(
    report_id: int, request: Request, saved: str | None = None, session: SignedIn = Depends(signed_in)
) -> Response:
    ctx = context(request)
    record = await ctx.read(scheduled_reports.get_report, ctx.db, session.principal, min(report_id, MAX_ID))
    notices = {
        "created": "Report scheduled.",
        "edited": "Schedule saved.",
        "paused": "Paused: no run starts until you resume.",
        "resumed": "Resumed: runs that fell due while paused are skipped.",
        "run": "An extra run was started; it appears below.",
    }
    return await _page(
        request, session, FormState(_values(record)), record=record, notice=notices.get(saved or "", "")
    )


@router.get("/reports/{report_id}/runs")
async def runs_fragment(report_id: int, request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    """The run history table alone, which the page refreshes while a run is pending."""
    ctx = context(request)
    record = await ctx.read(scheduled_reports.get_report, ctx.db, session.principal, min(report_id, MAX_ID))
    history = await ctx.read(run_history.run_history, ctx.db, session.principal, record.report_id)
    return render(request, "_runs.html", record=record, history=history)


@router.post("/reports/{report_id}")
async def edit(report_id: int, request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    ctx = context(request)
    report_id = min(report_id, MAX_ID)
    record = await ctx.read(scheduled_reports.get_report, ctx.db, session.principal, report_id)
    state = await _form(request, session)
    body = report_body(state, creating=False)
    try:
        await ctx.write(
            scheduled_reports.edit_report,
            ctx.db,
            session.principal,
            report_id,
            body,
            ctx.now(),
            callback_check(ctx),
        )
    except ValidationFailed as exc:
        place_report_problems(exc.problems(), state)
        return await _page(request, session, state, status=400, record=record)
    return RedirectResponse(f"/ui/reports/{report_id}?saved=edited", status_code=303)


@router.post("/reports/{report_id}/{action}")
async def act(
    report_id: int, action: str, request: Request, session: SignedIn = Depends(signed_in)
) -> Response:
    ctx = context(request)
    check_csrf(await request.form(), session)
    report_id = min(report_id, MAX_ID)
    caller, now = session.principal, ctx.now()
    if action == "pause":
        await ctx.write(scheduled_reports.pause_report, ctx.db, caller, report_id, now)
        return RedirectResponse(f"/ui/reports/{report_id}?saved=paused", status_code=303)
    if action == "resume":
        await ctx.write(scheduled_reports.resume_report, ctx.db, caller, report_id, now)
        return RedirectResponse(f"/ui/reports/{report_id}?saved=resumed", status_code=303)
    if action == "run":
        await ctx.write(scheduled_reports.run_now, ctx.db, caller, report_id, now)
        return RedirectResponse(f"/ui/reports/{report_id}?saved=run", status_code=303)
    if action == "delete":
        await ctx.write(scheduled_reports.delete_report, ctx.db, caller, report_id, now)
        return RedirectResponse("/ui/reports", status_code=303)
    return render(request, "error.html", 404, error=None, session=session)


@router.get("/reports/{report_id}/runs/{run_id}/file")
async def download(
    report_id: int, run_id: int, request: Request, session: SignedIn = Depends(signed_in)
) -> Response:
    """A fresh signed link to a completed run's file (links expire; this makes a new one each time)."""
    ctx = context(request)
    url = await ctx.read(
        run_history.run_file_link,
        ctx.db,
        session.principal,
        min(report_id, MAX_ID),
        min(run_id, MAX_ID),
        ctx.link,
    )
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
