"""The server's own pages: a landing page at ``/``, Swagger UI at ``/docs``, ReDoc at ``/redoc``, the README.

Every asset comes from this server: Swagger UI's and ReDoc's JavaScript and CSS are the copies shipped in
the ``fastapi-offline`` package, mounted under ``/static/docs``, so the pages work with no internet. The
Content-Security-Policy on each page makes the browser refuse anything from another origin, so a page
that would reach out (a font, a validator badge) fails loudly in the browser test instead of leaking.
"""

from __future__ import annotations

import functools
import html
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, Response

from driverlens.api.readme import readme_router

STATIC_URL = "/static/docs"
DASHBOARD_PATH = "/ui"
# 'unsafe-inline': Swagger UI and ReDoc start from an inline script; blob: for ReDoc's web worker.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'"
)
_PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


def install_pages(app: FastAPI) -> None:
    """Mount the docs assets and add the pages (call after the API routers: ``/`` matches nothing else)."""
    app.include_router(router)  # before the mount: its ReDoc bundle replaces the packaged one
    app.include_router(readme_router(CONTENT_SECURITY_POLICY))
    app.mount(STATIC_URL, StaticFiles(directory=_STATIC), name="docs-static")


_STATIC = Path(str(files("fastapi_offline").joinpath("static")))
# ReDoc 2 always shows a "by Redocly" logo loaded from its CDN (no option turns it off); the copy served
# here points it at our favicon, so the page makes no request beyond this server.
_REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def _redoc_bundle() -> bytes:
    bundle = (_STATIC / "redoc.standalone.js").read_bytes()
    return bundle.replace(_REDOC_LOGO, f"{STATIC_URL}/favicon.png".encode())


@router.get(f"{STATIC_URL}/redoc.standalone.js")
async def redoc_bundle() -> Response:
    return Response(
        _redoc_bundle(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"}
    )


def _page(response: HTMLResponse) -> HTMLResponse:
    response.headers.update(_PAGE_HEADERS)
    return response


@router.get("/docs")
async def swagger_ui(request: Request) -> Response:
    root = request.scope.get("root_path", "")
    return _page(
        get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="DriverLens - API docs",
            oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            # No validator badge: it would send the OpenAPI document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )
    )


@router.get("/docs/oauth2-redirect")
async def swagger_ui_redirect() -> Response:
    return _page(get_swagger_ui_oauth2_redirect_html())


@router.get("/redoc")
async def redoc(request: Request) -> Response:
    root = request.scope.get("root_path", "")
    return _page(
        get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title="DriverLens - API reference",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
    )


@router.get("/")
async def landing(request: Request) -> Response:
    root = request.scope.get("root_path", "")
    has_dashboard = any(
        str(getattr(r, "path", "")).rstrip("/") == DASHBOARD_PATH
        or str(getattr(r, "path", "")).startswith(DASHBOARD_PATH + "/")
        for r in request.app.routes
    )
    return _page(HTMLResponse(landing_html(root, request.app.version, has_dashboard)))


_LINKS: tuple[tuple[str, str, str], ...] = (
    ("/docs", "API docs (Swagger UI)", "try every endpoint in the browser; Authorize with a bearer token"),
    ("/redoc", "API reference (ReDoc)", "the same OpenAPI document, as a readable reference"),
    ("/openapi.json", "OpenAPI document", "for client generators"),
    ("/readme/", "README", "what DriverLens is, the walkthrough with curl, the CLI and Python"),
    ("/healthz", "Health", "liveness and readiness of the metadata and event stores"),
    ("/metrics", "Metrics", "Prometheus text format"),
)


def landing_html(root: str, version: str, has_dashboard: bool) -> str:
    """The landing page; the dashboard is listed only when its route is installed."""
    links = list(_LINKS)
    if has_dashboard:
        links.insert(0, (DASHBOARD_PATH, "Dashboard", "reports, runs and crash dumps of a partner"))
    items = "\n".join(
        f'    <li><a href="{html.escape(root + path)}">{html.escape(label)}</a>'
        f" <span>{html.escape(about)}</span></li>"
        for path, label, about in links
    )
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>DriverLens</title>
  <link rel="icon" href="{html.escape(root)}{STATIC_URL}/favicon.png">
  <style>
    body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem;
           color: #1f2328; }}
    h1 {{ margin-bottom: 0.2rem; }}
    p.lead {{ color: #57606a; margin-top: 0; }}
    ul {{ list-style: none; padding: 0; }}
    li {{ padding: 0.6rem 0; border-bottom: 1px solid #d0d7de; }}
    a {{ font-weight: 600; color: #0969da; }}
    span {{ display: block; color: #57606a; font-size: 0.9rem; }}
    code {{ background: #f6f8fa; padding: 0.1rem 0.3rem; border-radius: 4px; }}
  </style>
</head>
<body>
  <h1>DriverLens</h1>
  <p class="lead">Driver failure reports for hardware partners, compatible with the Windows Hardware Dev
  Center asynchronous driver failure reporting API. Version {html.escape(version)}.</p>
  <ul id="links">
{items}
  </ul>
  <p>Partners get a token at <code>POST /{{tenantId}}/oauth2/token</code> (client credentials) and call
  the API under <code>/analytics/driver/</code>. Started with <code>make run</code>, the demo partners'
  credentials are in <code>var/demo-credentials.json</code>.</p>
</body>
</html>
"""
