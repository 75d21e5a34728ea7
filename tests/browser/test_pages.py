"""The landing page, Swagger UI and ReDoc in a real Chromium, with everything off this machine blocked.

Each page must render from the server's own assets alone (no request leaves 127.0.0.1) and its
screenshot is kept in docs/screenshots/ for the README.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import Page

from driverlens.api.pages import landing_html
from tests.api.server import Server
from tests.browser.conftest import SCREENSHOTS, OfflinePage

TIMEOUT_MS = 30_000


def _open(offline: OfflinePage, url: str) -> Page:
    response = offline.page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
    assert response is not None and response.status == 200
    return offline.page


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), animations="disabled")


def _nothing_left_the_machine(offline: OfflinePage) -> None:
    assert offline.external == [], f"the page requested other hosts: {offline.external}"
    assert offline.page_errors == [], offline.page_errors
    assert offline.console_errors == [], offline.console_errors


def test_landing_page_links_docs_health_and_readme(pages_server: Server, offline_page: OfflinePage) -> None:
    page = _open(offline_page, f"{pages_server.base_url}/")
    links = page.locator("#links a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert {"/docs", "/redoc", "/healthz", "/openapi.json", "/readme/"} <= set(hrefs)
    assert "/ui" in hrefs  # the dashboard is installed: the landing page links it
    page.wait_for_load_state("networkidle")
    _screenshot(page, "landing.png")
    page.locator("#links a", has_text="README").click()
    page.wait_for_selector("h1:has-text('DriverLens')", timeout=TIMEOUT_MS)
    assert page.locator("a[href='docs/templates.md']").count() >= 1
    _nothing_left_the_machine(offline_page)


def test_swagger_ui_renders_every_operation_offline(pages_server: Server, offline_page: OfflinePage) -> None:
    page = _open(offline_page, f"{pages_server.base_url}/docs")
    page.wait_for_selector(".opblock", timeout=TIMEOUT_MS)
    operations = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/analytics/driver/reporttemplate" in [o.replace("\u200b", "") for o in operations]
    assert len(operations) >= 15
    page.wait_for_load_state("networkidle")
    _screenshot(page, "docs.png")
    _nothing_left_the_machine(offline_page)


def test_redoc_renders_the_reference_offline(pages_server: Server, offline_page: OfflinePage) -> None:
    page = _open(offline_page, f"{pages_server.base_url}/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", timeout=TIMEOUT_MS)
    assert page.locator("[data-section-id^='operation/']").count() >= 15
    page.wait_for_load_state("networkidle")
    _screenshot(page, "redoc.png")
    _nothing_left_the_machine(offline_page)


def test_the_guards_catch_a_page_that_reaches_out(pages_server: Server, offline_page: OfflinePage) -> None:
    """Broken variants: a request to another host is recorded; on our pages the CSP refuses it too."""
    page = offline_page.page
    page.set_content("<img src='https://cdn.example.com/logo.png'>")  # a page without our CSP
    page.wait_for_load_state("networkidle")
    assert offline_page.external == ["https://cdn.example.com/logo.png"]

    _open(offline_page, f"{pages_server.base_url}/docs")
    page.evaluate("fetch('https://cdn.example.com/x.js').catch(() => null)")
    page.wait_for_timeout(300)
    assert any("Content Security Policy" in e for e in offline_page.console_errors)


def test_pages_headers_assets_and_readme_paths(pages_server: Server) -> None:
    with httpx.Client(base_url=pages_server.base_url, timeout=30) as http:
        for path in ("/", "/docs", "/redoc", "/readme/"):
            response = http.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-security-policy"].startswith("default-src 'self'"), path
        bundle = http.get("/static/docs/redoc.standalone.js")
        assert bundle.status_code == 200 and b"cdn.redoc.ly/redoc/logo" not in bundle.content
        assert http.get("/static/docs/swagger-ui-bundle.js").status_code == 200
        assert http.get("/readme", follow_redirects=False).headers["location"] == "/readme/"
        assert "<h1>Report templates" in http.get("/readme/docs/templates.md").text
        assert http.get("/readme/docs/screenshots/landing.png").headers["content-type"] == "image/png"
        for bad in ("/readme/docs/../pyproject.toml", "/readme/docs/%2e%2e/README.md", "/readme/docs/x.py"):
            response = http.get(bad)
            assert response.status_code == 404, bad
            assert response.json()["errors"][0]["code"] == "NotFound"


def test_landing_page_lists_the_dashboard_once_its_route_exists() -> None:
    assert 'href="/ui"' not in landing_html("", "1.0", has_dashboard=False)
    assert 'href="/ui"' in landing_html("", "1.0", has_dashboard=True)
