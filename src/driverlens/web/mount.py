"""Attach the dashboard to the API app (on unless ``DRIVERLENS_UI_ENABLED=false``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from driverlens.web.pages import auth, buckets, dataset, overview, rates, reports, templates

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/ui"


def install_dashboard(app: FastAPI) -> None:
    for page in (auth, overview, buckets, templates, reports, rates, dataset):
        app.include_router(page.router, prefix=PREFIX, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="ui-static")

    @app.get("/", include_in_schema=False)
    async def _home() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=307)
