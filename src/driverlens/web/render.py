"""Jinja2 rendering with the headers every dashboard response carries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from driverlens import __version__

# Everything is served by DriverLens itself: no inline script, no third-party origin.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _number(value: Any) -> str:
    return f"{int(value):,}" if isinstance(value, int | float) else str(value)


def _when(value: datetime | date | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("T", " ").replace("Z", " UTC")


ENV = Environment(
    loader=PackageLoader("driverlens.web", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["number"] = _number
ENV.filters["when"] = _when
ENV.globals["version"] = __version__


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page (or fragment) from ``templates/name`` with the dashboard's security headers."""
    body = ENV.get_template(name).render(request=request, **context)
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def svg(markup: str) -> Markup:
    """Mark chart markup (built from escaped parts in ``web.charts``) safe for templates."""
    return Markup(markup)
