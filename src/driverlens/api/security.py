"""The bearer check: token -> verified claims -> the partner behind them (a ``Principal``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import bindparam, select

from driverlens.api.context import ApiContext
from driverlens.auth.principal import Principal
from driverlens.auth.service import principal_from_claims
from driverlens.errors import Unauthorized
from driverlens.metadata import Client

# The OpenAPI security scheme; ``app.py`` attaches it to every operation that calls ``principal`` (the
# header is parsed here rather than by FastAPI's HTTPBearer, so every failure gets our 401 envelope).
BEARER_SCHEME_NAME = "bearerAuth"
BEARER_SCHEME: dict[str, str] = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "Access token from POST /{tenantId}/oauth2/token (client-credentials grant).",
}


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


def _cache_key(claims: dict[str, Any]) -> tuple[str, str] | None:
    tid, appid = claims.get("tid"), claims.get("appid", claims.get("azp"))
    if isinstance(tid, str) and isinstance(appid, str):
        return tid.lower(), appid
    return None


def _lookup(ctx: ApiContext, claims: dict[str, Any]) -> Principal:
    with ctx.db.session() as session:
        return principal_from_claims(session, claims)


# Built once; checked on every request so that revoking a client takes effect at once.
_LIVE_CLIENT = select(Client.id).where(
    Client.client_id == bindparam("client_id"), Client.revoked_at.is_(None)
)


def _still_live(ctx: ApiContext, client_id: str) -> bool:
    if ctx.hot is not None:
        return ctx.hot.client_live(client_id)
    with ctx.db.engine.connect() as conn:
        return conn.execute(_LIVE_CLIENT, {"client_id": client_id}).first() is not None


async def principal(request: Request) -> Principal:
    """The authenticated caller; 401 for any token problem, 429 when the client is over its rate."""
    ctx: ApiContext = request.app.state.ctx  # not a sub-dependency: one less to solve per request
    claims = ctx.verifier.verify(bearer_token(request))
    key = _cache_key(claims)
    caller = ctx.principals.get(key) if key is not None else None
    if caller is not None and not await ctx.read(_still_live, ctx, caller.client_id):
        caller = None  # revoked since it was cached: the full lookup below says so
    if caller is None:
        caller = await ctx.read(_lookup, ctx, claims)
        if key is not None:
            ctx.principals.put(key, caller)
    request.scope.setdefault("state", {})["client_id"] = caller.client_id
    ctx.limiter.check(f"client:{caller.client_id}")
    return caller
