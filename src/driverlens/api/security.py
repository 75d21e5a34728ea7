"""The bearer check: token -> verified claims -> the partner behind them (a ``Principal``)."""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from fastapi import Request

from driverlens.api.context import ApiContext
from driverlens.auth.principal import Principal
from driverlens.auth.service import principal_from_claims
from driverlens.errors import Unauthorized
from driverlens.metadata.repositories import clients as client_repo

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
    """The caller's address: the peer, or what X-Forwarded-For says when the peer is a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    ctx: ApiContext = request.app.state.ctx
    return forwarded_client(peer, request.headers.getlist("x-forwarded-for"), ctx.settings.trusted_proxies)


def forwarded_https(request: Request) -> bool:
    """Whether a trusted proxy (``DRIVERLENS_TRUSTED_PROXIES``) says it received the request over TLS."""
    peer = request.client.host if request.client else ""
    ctx: ApiContext = request.app.state.ctx
    networks = _networks(ctx.settings.trusted_proxies)
    if not networks or not _within(peer, networks):
        return False
    protos = [p.strip().lower() for h in request.headers.getlist("x-forwarded-proto") for p in h.split(",")]
    return bool(protos) and protos[-1] == "https"


def forwarded_client(peer: str, forwarded_for: list[str], trusted: str) -> str:
    """Walk X-Forwarded-For from the nearest hop back while hops are trusted proxies.

    Only the operator's proxies (``DRIVERLENS_TRUSTED_PROXIES``) may speak for a client: anything else
    could put any address in the header, for example to get a fresh rate-limit bucket per request.
    """
    networks = _networks(trusted)
    if not networks or not _within(peer, networks):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    client = peer
    for hop in reversed(hops):
        if not _parse(hop):
            break  # garbage from beyond our proxies: the last address we can vouch for stands
        client = hop
        if not _within(hop, networks):
            break
    return client


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(trusted: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in trusted.split(",") if p.strip())


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in network for network in networks)


def _cache_key(claims: dict[str, Any]) -> tuple[str, str] | None:
    tid, appid = claims.get("tid"), claims.get("appid", claims.get("azp"))
    if isinstance(tid, str) and isinstance(appid, str):
        return tid.lower(), appid
    return None


def _lookup(ctx: ApiContext, claims: dict[str, Any]) -> Principal:
    with ctx.db.session() as session:
        return principal_from_claims(session, claims)


async def principal(request: Request) -> Principal:
    """The authenticated caller; 401 for any token problem, 429 when the client is over its rate."""
    ctx: ApiContext = request.app.state.ctx  # not a sub-dependency: one less to solve per request
    claims = ctx.verifier.verify(bearer_token(request))
    key = _cache_key(claims)
    caller = ctx.principals.get(key) if key is not None else None
    if caller is not None and not await ctx.read(client_repo.client_live, ctx.db, caller.client_id):
        caller = None  # revoked since it was cached: the full lookup below says so
    if caller is None:
        caller = await ctx.read(_lookup, ctx, claims)
        if key is not None:
            ctx.principals.put(key, caller)
    request.scope.setdefault("state", {})["client_id"] = caller.client_id
    ctx.limiter.check(f"client:{caller.client_id}")
    return caller
