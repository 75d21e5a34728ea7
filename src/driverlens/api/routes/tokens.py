"""The Azure AD compatible token endpoints (v1 and v2) and the signing-key discovery documents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from driverlens.api.context import ApiContext, get_context
from driverlens.api.handlers import tracking_id_of
from driverlens.api.schemas import form_body_doc
from driverlens.api.security import client_address
from driverlens.auth.requests import openid_configuration, parse_form_body, parse_token_request
from driverlens.auth.service import authenticate_client, tenant_exists
from driverlens.auth.tokens import own_issuer
from driverlens.errors import DriverLensError, RateLimited, Unauthorized, ValidationFailed

router = APIRouter(tags=["tokens"])

TenantPath = Annotated[
    str, Path(alias="tenantId", min_length=1, max_length=100, description="Your tenant id (GUID).")
]
_OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid request (Azure AD error shape: error, error_description)."},
    401: {"description": "Client authentication failed."},
    429: {"description": "Rate limited; see Retry-After."},
}


def oauth_error(
    request: Request, status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Response:
    """An error in the Azure AD token endpoint shape."""
    now = datetime.now(UTC)
    tracking = tracking_id_of(request)
    body = {
        "error": error,
        "error_description": description,
        "error_codes": [],
        "timestamp": now.strftime("%Y-%m-%d %H:%M:%SZ"),
        "trace_id": tracking,
        "correlation_id": str(uuid.uuid4()),
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _from_error(request: Request, exc: DriverLensError) -> Response:
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
        return oauth_error(request, 429, "temporarily_unavailable", exc.message, headers)
    if isinstance(exc, Unauthorized):
        error, _, description = exc.message.partition(": ")
        if not description or " " in error:
            error, description = "invalid_client", exc.message
        return oauth_error(request, 401, error, description)
    if isinstance(exc, ValidationFailed):
        problems = exc.problems()
        error = problems[0].code if problems[0].code != "InvalidInput" else "invalid_request"
        description = "; ".join(p.describe() for p in problems)
        return oauth_error(request, 400, error, description)
    return oauth_error(request, exc.status if exc.status < 500 else 400, "invalid_request", exc.message)


async def _token(request: Request, ctx: ApiContext, tenant_id: str, version: Literal["v1", "v2"]) -> Response:
    try:
        ctx.limiter.check(f"ip:{client_address(request)}")
        form = parse_form_body(await request.body())
        wanted = parse_token_request(form, version, audience=ctx.settings.token_audience)

        def authenticate() -> dict[str, Any]:
            with ctx.db.session() as session:
                caller = authenticate_client(session, tenant_id, wanted.client_id, wanted.client_secret)
            return ctx.issuer.issue(tenant_id=caller.tenant_id, client_id=caller.client_id, version=version)

        issued = await run_in_threadpool(authenticate)
    except DriverLensError as exc:
        return _from_error(request, exc)
    return JSONResponse(issued, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.post(
    "/{tenantId}/oauth2/token",
    summary="Get an access token (Azure AD v1 client-credentials form)",
    responses=_OAUTH_ERRORS,
    openapi_extra=form_body_doc("v1"),
)
async def token_v1(
    request: Request, tenant_id: TenantPath, ctx: ApiContext = Depends(get_context)
) -> Response:
    return await _token(request, ctx, tenant_id, "v1")


@router.post(
    "/{tenantId}/oauth2/v2.0/token",
    summary="Get an access token (Azure AD v2 form, scope=<resource>/.default)",
    responses=_OAUTH_ERRORS,
    openapi_extra=form_body_doc("v2"),
)
async def token_v2(
    request: Request, tenant_id: TenantPath, ctx: ApiContext = Depends(get_context)
) -> Response:
    return await _token(request, ctx, tenant_id, "v2")


def _unknown_tenant(request: Request, ctx: ApiContext, tenant_id: str) -> Response | None:
    """A 404 for a tenant no partner has (the documents would otherwise vouch for any string)."""
    with ctx.db.session() as session:
        if tenant_exists(session, tenant_id):
            return None
    return oauth_error(
        request, 404, "invalid_tenant", f"tenant {tenant_id[:100]!r} is not known to this server"
    )


_TENANT_ERRORS: dict[int | str, dict[str, Any]] = {404: {"description": "Unknown tenant."}}


def _jwks(request: Request, ctx: ApiContext, tenant_id: str) -> Response:
    return _unknown_tenant(request, ctx, tenant_id) or JSONResponse(
        ctx.keyring.jwks(), headers={"Cache-Control": "public, max-age=300"}
    )


@router.get("/{tenantId}/discovery/keys", summary="Token signing keys (JWKS)", responses=_TENANT_ERRORS)
def discovery_keys(
    request: Request, tenant_id: TenantPath, ctx: ApiContext = Depends(get_context)
) -> Response:
    return _jwks(request, ctx, tenant_id)


@router.get(
    "/{tenantId}/discovery/v2.0/keys", summary="Token signing keys (JWKS, v2 path)", responses=_TENANT_ERRORS
)
def discovery_keys_v2(
    request: Request, tenant_id: TenantPath, ctx: ApiContext = Depends(get_context)
) -> Response:
    return _jwks(request, ctx, tenant_id)


def _openid(request: Request, ctx: ApiContext, tenant_id: str) -> Response:
    unknown = _unknown_tenant(request, ctx, tenant_id)
    if unknown is not None:
        return unknown
    base = ctx.settings.public_base_url
    document = openid_configuration(base, tenant_id, issuer=own_issuer(base))
    return JSONResponse(document)


@router.get(
    "/{tenantId}/.well-known/openid-configuration", summary="OpenID configuration", responses=_TENANT_ERRORS
)
def openid_v1(request: Request, tenant_id: TenantPath, ctx: ApiContext = Depends(get_context)) -> Response:
    return _openid(request, ctx, tenant_id)


@router.get(
    "/{tenantId}/v2.0/.well-known/openid-configuration",
    summary="OpenID configuration (v2)",
    responses=_TENANT_ERRORS,
)
def openid_v2(request: Request, tenant_id: TenantPath, ctx: ApiContext = Depends(get_context)) -> Response:
    return _openid(request, ctx, tenant_id)
