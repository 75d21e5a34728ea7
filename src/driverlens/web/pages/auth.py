"""Sign-in and sign-out."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from driverlens.api.context import ApiContext
from driverlens.api.security import client_address
from driverlens.auth.web_sessions import SignedIn, sign_in, sign_out
from driverlens.errors import Unauthorized, ValidationFailed
from driverlens.web.render import render
from driverlens.web.session import (
    COOKIE,
    COOKIE_PATH,
    SIGNIN_COOKIE,
    PageRoute,
    check_csrf,
    clear_cookie,
    context,
    new_signin_nonce,
    same,
    set_cookie,
    signed_in,
)

router = APIRouter(route_class=PageRoute)


def safe_next(raw: str | None) -> str:
    """Only a dashboard path is a place to return to after sign-in (no open redirect)."""
    if raw and raw.startswith(f"{COOKIE_PATH}/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return f"{COOKIE_PATH}/"


def _form(
    request: Request, status: int = 200, error: str = "", client_id: str = "", next_url: str = ""
) -> Response:
    nonce = new_signin_nonce()
    response = render(
        request,
        "signin.html",
        status,
        session=None,
        csrf=nonce,
        error=error,
        client_id=client_id,
        next=next_url,
    )
    set_cookie(request, response, SIGNIN_COOKIE, nonce, max_age=3600)
    return response


@router.get("/signin")
async def signin_page(request: Request, next: str | None = None) -> Response:
    return _form(request, next_url=safe_next(next))


@router.post("/signin")
async def signin(request: Request) -> Response:
    ctx = context(request)
    form = await request.form()
    client_id, secret = str(form.get("client_id") or ""), str(form.get("client_secret") or "")
    next_url = safe_next(str(form.get("next") or ""))
    if not same(str(form.get("csrf") or ""), request.cookies.get(SIGNIN_COOKIE, "")):
        return _form(request, 403, "The sign-in form expired; please try again.", client_id, next_url)
    ctx.limiter.check(f"signin:{client_address(request)}")
    lifetime = timedelta(hours=ctx.settings.ui_session_hours)
    try:
        opened = await ctx.write(_sign_in, ctx, client_id, secret, lifetime)
    except (Unauthorized, ValidationFailed) as exc:
        message = "Client id or secret is not right." if isinstance(exc, Unauthorized) else exc.message
        if "revoked" in exc.message:
            message = "This client has been revoked."
        return _form(request, exc.status, message, client_id, next_url)
    response = RedirectResponse(next_url, status_code=303)
    set_cookie(request, response, COOKIE, opened.token, max_age=int(lifetime.total_seconds()))
    clear_cookie(request, response, SIGNIN_COOKIE)
    return response


def _sign_in(ctx: ApiContext, client_id: str, secret: str, lifetime: timedelta) -> SignedIn:
    with ctx.db.session() as session:
        return sign_in(session, client_id, secret, ctx.now(), lifetime)


@router.post("/signout")
async def signout(request: Request) -> Response:
    ctx = context(request)
    current = await signed_in(request)
    check_csrf(await request.form(), current)
    await ctx.write(_sign_out, ctx, current.token)
    response = RedirectResponse(f"{COOKIE_PATH}/signin", status_code=303)
    clear_cookie(request, response, COOKIE)
    return response


def _sign_out(ctx: ApiContext, token: str) -> None:
    with ctx.db.session() as session:
        sign_out(session, token)
