"""The dashboard's session cookie, CSRF check and the route class that turns errors into pages."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from driverlens.api.context import ApiContext
from driverlens.api.security import forwarded_https
from driverlens.auth.web_sessions import SignedIn, live_session
from driverlens.errors import DriverLensError
from driverlens.web.render import render

COOKIE = "driverlens_session"
# Sign-in form CSRF (no session yet): a random value in a cookie that the form must echo.
SIGNIN_COOKIE = "driverlens_signin"
COOKIE_PATH = "/ui"


class SignInRequired(DriverLensError):
    """No live dashboard session: the browser is sent to the sign-in page."""

    status = 401
    code = "SignInRequired"


class CsrfRejected(DriverLensError):
    """A state-changing form came without this session's CSRF token."""

    status = 403
    code = "CsrfRejected"


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def is_secure(request: Request) -> bool:
    """Cookies are Secure when the page is served over TLS: directly, as the public address, or behind a
    trusted proxy that says so (X-Forwarded-Proto from an address in DRIVERLENS_TRUSTED_PROXIES)."""
    return (
        request.url.scheme == "https"
        or context(request).settings.public_base_url.startswith("https:")
        or forwarded_https(request)
    )


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="lax", secure=is_secure(request))


async def signed_in(request: Request) -> SignedIn:
    """The live session of this browser, or ``SignInRequired``."""
    ctx = context(request)
    token = request.cookies.get(COOKIE, "")
    found = await ctx.read(_live, ctx, token) if token else None
    if found is None:
        raise SignInRequired("please sign in")
    return found


def _live(ctx: ApiContext, token: str) -> SignedIn | None:
    with ctx.db.session() as session:
        return live_session(session, token, ctx.now())


def same(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


def check_csrf(form: FormData, session: SignedIn) -> None:
    if not same(_field(form, "csrf"), session.csrf_token):
        raise CsrfRejected("this form has expired or did not come from this dashboard; reload the page")


def _field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def new_signin_nonce() -> str:
    return secrets.token_urlsafe(24)


class PageRoute(APIRoute):
    """Dashboard routes: no session -> the sign-in page; any DriverLens error -> an HTML error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(
                    f"{COOKIE_PATH}/signin?next={quote(target, safe='')}", status_code=303
                )
            except DriverLensError as exc:
                status = exc.status if exc.status < 500 else 500
                headers = (
                    {"Retry-After": str(exc.retry_after_seconds)}
                    if hasattr(exc, "retry_after_seconds")
                    else {}
                )
                response = render(request, "error.html", status, error=exc, session=None)
                response.headers.update(headers)
                return response

        return route
