"""The bearer check: token -> verified claims -> the partner behind them (a ``Principal``)."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from driverlens.api.context import ApiContext, get_context
from driverlens.auth.principal import Principal
from driverlens.auth.service import principal_from_claims
from driverlens.errors import Unauthorized

# Declared for the OpenAPI document; the header is parsed below so every failure gets our 401.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="Access token from POST /{tenantId}/oauth2/token (client-credentials grant).",
)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if header is None or not header.strip():
        raise Unauthorized(
            "missing token: send 'Authorization: Bearer <access token>'", target="Authorization"
        )
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "malformed Authorization header: expected 'Bearer <access token>'", target="Authorization"
        )
    return token.strip()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def principal(
    request: Request,
    _declared: object = Depends(bearer_scheme),
    ctx: ApiContext = Depends(get_context),
) -> Principal:
    """The authenticated caller; 401 for any token problem, 429 when the client is over its rate."""
    token = bearer_token(request)
    claims = ctx.verifier.verify(token)
    with ctx.db.session() as session:
        caller = principal_from_claims(session, claims)
    request.scope.setdefault("state", {})["client_id"] = caller.client_id
    ctx.limiter.check(f"client:{caller.client_id}")
    return caller


def rate_limit_by_address(request: Request, ctx: ApiContext = Depends(get_context)) -> None:
    """For unauthenticated endpoints: the same token bucket, keyed by the caller's address."""
    ctx.limiter.check(f"ip:{client_address(request)}")
