"""A failure bucket: trend, driver versions, OS builds, and its CABs with download."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from driverlens.auth.web_sessions import SignedIn
from driverlens.usecases import cab_downloads
from driverlens.usecases.buckets import bucket
from driverlens.web.charts import bar_chart, line_chart
from driverlens.web.render import render, svg
from driverlens.web.session import PageRoute, context, signed_in

router = APIRouter(route_class=PageRoute)


@router.get("/buckets/{failure_hash}")
async def bucket_page(
    failure_hash: str, request: Request, session: SignedIn = Depends(signed_in)
) -> Response:
    ctx = context(request)
    data = await run_in_threadpool(
        bucket,
        ctx.engine,
        ctx.db,
        session.principal,
        failure_hash[:100],
        ctx.now(),
        ctx.settings.preview_timeout_seconds,
    )
    trend = svg(
        line_chart(
            f"Events per day of {data.name}",
            [d for d, _ in data.trend],
            [("Events", [v for _, v in data.trend])],
            "chart-trend",
        )
    )
    versions = svg(
        bar_chart("Events by driver version", [(c.label, c.events) for c in data.versions], "chart-versions")
    )
    builds = svg(
        bar_chart("Events by OS build", [(c.label, c.events) for c in data.os_builds], "chart-builds")
    )
    return render(
        request, "bucket.html", session=session, data=data, trend=trend, versions=versions, builds=builds
    )


@router.get("/cabs/{cab_id_hash}")
async def cab_download(
    cab_id_hash: str, request: Request, app: str | None = None, session: SignedIn = Depends(signed_in)
) -> Response:
    """A fresh signed link to the CAB (the same entitlement check as the API's cabdownload)."""
    ctx = context(request)
    row = await run_in_threadpool(
        cab_downloads.find_cab, ctx.events, ctx.db, session.principal, cab_id_hash[:200], app, ctx.now()
    )
    url = cab_downloads.cab_link(row, ctx.link)
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
