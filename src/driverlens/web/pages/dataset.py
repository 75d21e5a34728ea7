"""The dataset: views, columns, types, allowed values, operators, aggregates, periods and limits."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from driverlens.auth.web_sessions import SignedIn
from driverlens.usecases.dataset import describe_for
from driverlens.web.render import render
from driverlens.web.session import PageRoute, context, signed_in

router = APIRouter(route_class=PageRoute)


@router.get("/dataset")
async def dataset_page(request: Request, session: SignedIn = Depends(signed_in)) -> Response:
    ctx = context(request)
    described = await run_in_threadpool(
        describe_for, ctx.events, session.principal, ctx.settings.max_body_bytes
    )
    own_view = session.principal.kind.view.value
    views = sorted(described["views"], key=lambda v: v["name"] != own_view)
    return render(request, "dataset.html", session=session, dataset=described, views=views, own_view=own_view)
