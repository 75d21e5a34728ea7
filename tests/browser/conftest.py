"""Browser fixtures: a real headless Chromium (Debian's package) driven by Playwright, offline.

- ``chromium``: the browser, one per test module. Skips with the reason when ``/usr/bin/chromium``
  (or ``DRIVERLENS_CHROMIUM``) is missing; fails instead when ``CI=true`` or
  ``DRIVERLENS_REQUIRE_BROWSER=1`` (``.ci/run`` sets it and installs the ``chromium`` package).
  Playwright only drives that binary: ``playwright install`` is never run and no browser is downloaded.
- ``offline_page``: a fresh page whose every request to a host other than 127.0.0.1/localhost is
  aborted and recorded in ``.external``; console errors and uncaught page errors are recorded too.
- ``pages_server``: a real ``driverlens serve`` process (module-scoped) with a small event store.

Put browser tests in this directory (the dashboard's too) so they share these fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.api.server import Server, prepare_data_dir, start_server

CHROMIUM = Path(os.environ.get("DRIVERLENS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _browser_required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("DRIVERLENS_REQUIRE_BROWSER") == "1"


def _skip_or_fail(reason: str) -> None:
    if _browser_required():
        pytest.fail(f"{reason} (required here: CI=true or DRIVERLENS_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


# Module-scoped, not session: while Playwright's sync API is open it keeps an asyncio loop running in
# this thread, and a later test calling asyncio.run() would fail.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        _skip_or_fail(f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class OfflinePage:
    """A page that may only talk to this machine; what it tried beyond that is in ``external``."""

    page: Page
    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture
def offline_page(chromium: Browser) -> Iterator[OfflinePage]:
    context = chromium.new_context(viewport=VIEWPORT, service_workers="block")
    page = context.new_page()
    recorded = OfflinePage(page)

    def guard(route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            recorded.external.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    page.on("console", lambda m: recorded.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: recorded.page_errors.append(str(e)))
    try:
        yield recorded
    finally:
        context.close()


@pytest.fixture(scope="module")
def pages_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("browser")
    server = start_server(data_dir, prepare_data_dir(data_dir, rows=2_000))
    try:
        yield server
    finally:
        server.stop()
