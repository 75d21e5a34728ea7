"""Failure rates per driver version: rate, 95% interval, the version it replaces, Regressed flags."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from driverlens.auth.web_sessions import SignedIn
from driverlens.usecases.glance import WINDOW_DAYS, read_days, read_filters
from driverlens.usecases.version_rates import version_rates
from driverlens.web.render import render
from driverlens.web.session import PageRoute, context, signed_in

router = APIRouter(route_class=PageRoute)


@router.get("/rates")
async def rates_page(
    request: Request,
    days: str | None = None,
    driver: str | None = None,
    session: SignedIn = Depends(signed_in),
) -> Response:
    ctx = context(request)
    window_days = read_days(days)
    filters = read_filters(driver, None, None)
    data = await run_in_threadpool(
        version_rates,
        ctx.engine,
        session.principal,
        ctx.now(),
        window_days,
        filters,
        ctx.settings.preview_timeout_seconds,
    )
    return render(
        request,
        "rates.html",
        session=session,
        data=data,
        days=window_days,
        choices=WINDOW_DAYS,
        driver=filters.driver,
    )
