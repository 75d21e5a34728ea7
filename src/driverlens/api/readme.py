"""The README and docs/ of a source checkout, rendered as pages at ``/readme/``.

Served from the checkout the package runs from (``make run`` installs it editable), so the pages are
the files as they are now. An installed wheel has no checkout: the README then comes from the package
metadata (its long description) and docs/ pages are not available. Relative links keep working because
the README is served at ``/readme/`` and ``docs/x.md`` resolves to ``/readme/docs/x.md``.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, metadata
from pathlib import Path

from fastapi import APIRouter
from markdown_it import MarkdownIt
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from driverlens.errors import NotFound

# src/driverlens/api/readme.py -> the checkout root
_CHECKOUT = Path(__file__).resolve().parents[3]
# One level under docs/, plain names only: nothing a client sends can leave docs/.
_DOC_NAME = re.compile(r"^(?:[A-Za-z0-9_-]+/)?[A-Za-z0-9_.-]+\.(?:md|png)$")
_STYLE = """
body { font: 16px/1.55 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       color: #1f2328; }
pre { background: #f6f8fa; padding: 0.8rem; overflow-x: auto; border-radius: 6px; }
code { background: #f6f8fa; padding: 0.1rem 0.3rem; border-radius: 4px; font-size: 0.9em; }
pre code { padding: 0; }
table { border-collapse: collapse; } td, th { border: 1px solid #d0d7de; padding: 0.3rem 0.5rem; }
img { max-width: 100%; border: 1px solid #d0d7de; }
"""


def readme_router(content_security_policy: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    headers = {"Content-Security-Policy": content_security_policy}

    @router.get("/readme")
    async def readme_slash() -> Response:
        return RedirectResponse("/readme/", status_code=308)

    @router.get("/readme/")
    async def readme() -> Response:
        return HTMLResponse(_render("DriverLens README", _readme_text()), headers=headers)

    @router.get("/readme/docs/{name:path}")
    async def doc(name: str) -> Response:
        path = _doc_path(name)
        if path.suffix == ".png":
            return FileResponse(path, media_type="image/png", headers=headers)
        text = path.read_text(encoding="utf-8")
        # A page under docs/ links its neighbours as "x.md" and the README as "../README.md".
        return HTMLResponse(_render(f"DriverLens - {name}", text), headers=headers)

    return router


def _readme_text() -> str:
    path = _CHECKOUT / "README.md"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    try:
        return str(metadata("driverlens").get_payload())  # type: ignore[attr-defined]
    except PackageNotFoundError:
        return "# DriverLens\n\nThe README is not installed with this copy of DriverLens."


def _doc_path(name: str) -> Path:
    docs = _CHECKOUT / "docs"
    path = docs / name
    if not _DOC_NAME.match(name) or not path.is_file():
        raise NotFound(f"no page docs/{name[:80]} in this installation", target="name")
    return path


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _render(title: str, text: str) -> str:
    body = _markdown().render(text).replace('href="../README.md"', 'href="/readme/"')
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>\n"
        f'<p><a href="/">DriverLens home</a></p>\n{body}</body></html>\n'
    )
