"""The overview: failures per day, top and new buckets, by driver version; filters without a reload."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from driverlens.auth.web_sessions import SignedIn
from driverlens.usecases import glance
from driverlens.usecases.overview import Overview, filter_options, overview
from driverlens.web.charts import bar_chart, line_chart
from driverlens.web.render import render, svg
from driverlens.web.session import PageRoute, context, signed_in

router = APIRouter(route_class=PageRoute)


def _charts(data: Overview) -> dict[str, Any]:
    days = [p.day for p in data.series]
    return {
        "per_day": svg(
            line_chart(
                "Failures per day",
                days,
                [
                    ("Events", [p.events for p in data.series]),
                    ("Distinct devices", [p.devices for p in data.series]),
                ],
                "chart-per-day",
            )
        ),
        "by_driver": svg(
            bar_chart(
                "Events by driver version",
                [(f"{d.driver} {d.version}", d.events) for d in data.drivers],
                "chart-by-driver",
            )
        ),
    }


async def _overview(request: Request, session: SignedIn) -> dict[str, Any]:
    ctx = context(request)
    query = request.query_params
    days = glance.read_days(query.get("days"))
    filters = glance.read_filters(query.get("driver"), query.get("version"), query.get("os"))
    timeout = ctx.settings.preview_timeout_seconds
    data = await run_in_threadpool(overview, ctx.engine, session.principal, days, filters, ctx.now(), timeout)
    return {"session": session, "data": data, "days": days, "charts": _charts(data)}


@router.get("/")
async def overview_page(request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    ctx = context(request)
    page = await _overview(request, session)
    options = await run_in_threadpool(
        filter_options,
        ctx.engine,
        session.principal,
        page["days"],
        page["data"].filters,
        ctx.now(),
        ctx.settings.preview_timeout_seconds,
    )
    return render(request, "overview.html", options=options, **page)


@router.get("/overview/charts")
async def overview_charts(request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    """The charts part of the overview, for the filters' in-place refresh."""
    return render(request, "_overview_charts.html", **(await _overview(request, session)))
