"""Debian's Chromium driven by Playwright (never ``playwright install``: nothing downloads at test time).

Without a browser the tests skip saying why; in CI (``CI=true`` or ``DRIVERLENS_REQUIRE_BROWSER`` set,
as ``.ci/run`` does) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def browser_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or bool(os.environ.get("DRIVERLENS_REQUIRE_BROWSER"))


def _missing(reason: str) -> None:
    if browser_required():
        pytest.fail(f"{reason} (required here: CI or DRIVERLENS_REQUIRE_BROWSER is set)")
    pytest.skip(f"{reason}; `apt-get install chromium` (or run .ci/run) to run the browser tests")


def launch_chromium() -> Iterator[Any]:
    """A headless Chromium for the session, or a skip (a failure in CI) saying what is missing."""
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (make install installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
