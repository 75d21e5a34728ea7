"""The app factory: no globals; collaborators are built here and kept on ``app.state.ctx``."""

from __future__ import annotations

import gc
import warnings
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from driverlens import __version__
from driverlens.api.context import build_context
from driverlens.api.files import build_files_router
from driverlens.api.handlers import install_handlers
from driverlens.api.health import count_runs_by_state
from driverlens.api.middleware import RequestContextMiddleware
from driverlens.api.pages import install_pages
from driverlens.api.routes import cabs, collector, dataset, ops, reports, runs, templates, tokens
from driverlens.api.schemas import CONDITION_SCHEMA
from driverlens.api.security import BEARER_SCHEME, BEARER_SCHEME_NAME, principal
from driverlens.callbacks.ssrf import CallbackGuard
from driverlens.clock import Clock, SystemClock
from driverlens.metadata.database import Database
from driverlens.settings import Settings

DESCRIPTION = """\
Driver failure reports compatible with the Windows Hardware Dev Center asynchronous driver failure
reporting API. Every analytics response is an envelope `{"data": ..., "errors": [...]}`; every request
except the token endpoints carries `Authorization: Bearer <token>` obtained with the OAuth2
client-credentials grant at `/{tenantId}/oauth2/token`. Bodies are JSON; `//` and `/* */` comments and
keys in any case are accepted. Each response carries `X-Tracking-Id`, also found in the server log.
"""


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    callback_guard: CallbackGuard | None = None,
    extra_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """Build the DriverLens API for ``settings``; ``clock`` defaults to the system clock.

    The metadata store must already be migrated (``driverlens serve`` does it at start).
    """
    ctx = build_context(settings, clock or SystemClock(), database=database, callback_guard=callback_guard)
    app = FastAPI(
        title="DriverLens",
        version=__version__,
        description=DESCRIPTION,
        # Served by driverlens.api.pages from packaged assets instead of FastAPI's CDN-loading pages.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=_freeze_startup_objects,
    )
    app.state.ctx = ctx
    install_handlers(app)
    # dataset before templates: POST .../reporttemplate/preview must not match .../{templateId}.
    # Routes are tried in order, so the busy analytics routers come first and ops (/healthz,
    # /metrics; no path in common with any other) last.
    routers = (
        dataset.router,
        templates.router,
        reports.router,
        runs.router,
        cabs.router,
        collector.router,
        tokens.router,
        ops.router,
    )
    for router in (*routers, *extra_routers):
        app.include_router(router)
    app.include_router(build_files_router(ctx.blobs, ctx.signer))
    install_pages(app)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        metrics=ctx.metrics,
        large_bodies={collector.UPLOAD_PATH: settings.cab_max_bytes},
        body_timeout_s=settings.body_timeout_seconds,
    )
    if settings.ui_enabled:
        # Imported here: an API without the dashboard never loads Jinja2 or the page modules.
        from driverlens.web import install_dashboard

        install_dashboard(app)
    _install_openapi(app, [*routers, *extra_routers])
    ctx.metrics.runs_by_state = partial(count_runs_by_state, ctx.db)
    if ctx.metrics.process is not None:
        ctx.metrics.process.watch_queue(ctx.db, ctx.clock)
    return app


@asynccontextmanager
async def _freeze_startup_objects(_app: FastAPI) -> AsyncIterator[None]:
    """Move everything built at start (modules, routes, models, pools) out of the cyclic collector's
    reach, so the collections that requests trigger scan only request garbage and never pause the
    event loop for a walk over the whole app (a tail-latency cost otherwise)."""
    gc.collect()
    gc.freeze()
    yield


def _install_openapi(app: FastAPI, app_routers: Sequence[APIRouter]) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():
                # GET+HEAD routes share one operation id; made unique below.
                warnings.filterwarnings("ignore", message="Duplicate Operation ID", category=UserWarning)
                schema = get_openapi(
                    title=app.title, version=app.version, description=app.description, routes=app.routes
                )
            _tidy_operations(schema)
            _declare_bearer_auth(schema, [r for router in app_routers for r in router.routes])
            schema.setdefault("components", {}).setdefault("schemas", {})["Condition"] = CONDITION_SCHEMA
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_bearer_auth(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """Mark every operation whose handler depends on ``principal`` as needing the bearer token."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER_SCHEME_NAME] = BEARER_SCHEME
    for route in routes:
        if not isinstance(route, APIRoute) or not _uses_principal(route.dependant):
            continue
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation["security"] = [{BEARER_SCHEME_NAME: []}]


def _uses_principal(dependant: Dependant) -> bool:
    return any(d.call is principal or _uses_principal(d) for d in dependant.dependencies)


def _tidy_operations(schema: dict[str, Any]) -> None:
    """Unique operation ids; invalid parameters are documented as our 400 envelope (never a 422)."""
    seen: set[str] = set()
    bad_input = {
        "description": "Invalid input; every problem is listed.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            if responses.pop("422", None) is not None:
                responses.setdefault("400", bad_input)
            op_id = operation.get("operationId")
            if op_id is None:
                continue
            if op_id in seen:
                op_id = operation["operationId"] = f"{op_id}_{method}"
            seen.add(op_id)
