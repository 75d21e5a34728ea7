"""The dashboard in a real headless Chromium against a real server process with its worker.

One journey (sign in, overview, a template with a mistake then fixed, schedule, run, download, bucket,
CAB, sign out), a second partner who sees none of it, and screenshots of every page at two widths.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import Server
from tests.web.conftest import IHV, IHV2, OEM

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
RUN_TIMEOUT_MS = 90_000


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


def sign_in(page: Any, server: Server, who: str) -> None:
    creds = server.partners[who]
    page.goto(f"{server.base_url}/ui/")
    assert "/ui/signin" in page.url  # no session: sent to sign in
    page.get_by_label("Client id").fill(creds.client_id)
    page.get_by_label("Client secret").fill(creds.secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.base_url}/ui/")


def until(page: Any, expression: str, timeout_s: float = 20) -> None:
    """Poll a script expression (``wait_for_function`` evaluates strings, which the page's CSP forbids)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout_s}s: {expression}"
        page.wait_for_timeout(50)


def shoot(page: Any, directory: Path, name: str) -> None:
    """The current page at both widths (back to desktop afterwards)."""
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        page.screenshot(path=str(directory / f"ui-{name}-{label}.png"))
        # Nothing may overflow sideways at either width (tables scroll inside their own box).
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        culprits = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
            "document.documentElement.clientWidth + 1 && !e.closest('.scroll'))"
            ".slice(0, 5).map(e => e.tagName + '.' + e.className)"
        )
        assert overflow <= 1, f"{name} overflows by {overflow}px at {width}px: {culprits}"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_partner_journey(context: Any, web_server: Server, screenshots_dir: Path) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(web_server.base_url) else outside.append(r.url))

    page.goto(f"{web_server.base_url}/ui/signin")
    shoot(page, screenshots_dir, "signin")
    # A wrong secret is refused with a message, not a session.
    page.get_by_label("Client id").fill(web_server.partners[IHV].client_id)
    page.get_by_label("Client secret").fill("not-the-secret")
    page.get_by_role("button", name="Sign in").click()
    assert "not right" in page.get_by_role("alert").inner_text()
    assert not [c for c in context.cookies() if c["name"] == "driverlens_session"]

    sign_in(page, web_server, IHV)
    session_cookie = next(c for c in context.cookies() if c["name"] == "driverlens_session")
    assert (
        session_cookie["httpOnly"] and session_cookie["sameSite"] == "Lax" and session_cookie["path"] == "/ui"
    )
    assert not session_cookie["secure"]  # plain HTTP here; tests/web/test_session.py covers TLS

    # Overview: charts with data.
    assert page.locator("#chart-per-day polyline").count() == 2
    total = int(re.sub(r"\D", "", page.locator("#charts .legend").inner_text().split("·")[1]))
    assert total > 0
    assert page.locator("#chart-by-driver rect.bar").count() > 0
    shoot(page, screenshots_dir, "overview")
    # A filter changes the charts in place: no navigation, the address follows.
    page.evaluate("window.__kept = 'same page'")
    driver = page.locator("#f-driver option").nth(1).get_attribute("value")
    page.get_by_label("Driver", exact=True).select_option(driver)
    until(page, "location.search.includes('driver=') && !document.getElementById('charts').ariaBusy")
    filtered = int(re.sub(r"\D", "", page.locator("#charts .legend").inner_text().split("·")[1]))
    assert 0 < filtered < total
    assert page.evaluate("window.__kept") == "same page"

    # A template with one mistake: the API's message beside the field; then fixed.
    page.get_by_role("navigation").get_by_role("link", name="Templates").click()
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Columns").fill("DriverName, FailureNam, FailureHash, ApplicationId")
    page.get_by_role("button", name="Create template").click()
    field_error = page.locator("#f-projection ~ .field-error")
    assert "FailureNam" in field_error.inner_text()
    assert page.get_by_label("Columns").get_attribute("aria-invalid") == "true"
    shoot(page, screenshots_dir, "template-error")
    page.get_by_label("Columns").fill("DriverName, FailureName, FailureHash, ApplicationId")
    page.get_by_role("button", name="Create template").click()
    page.wait_for_url(re.compile(r"/ui/templates/\d+\?saved=created"))
    template_id = re.search(r"/templates/(\d+)", page.url).group(1)  # type: ignore[union-attr]
    # The live preview shows rows of the saved template.
    page.locator("#preview table tbody tr").first.wait_for()
    assert page.locator("#preview thead th").first.inner_text() == "DriverName"
    shoot(page, screenshots_dir, "template")
    page.get_by_role("navigation").get_by_role("link", name="Templates").click()
    assert page.get_by_role("link", name=f"Template {template_id}").count() == 1
    shoot(page, screenshots_dir, "templates")

    # Schedule it, first run now; the run completes and its file downloads.
    page.goto(f"{web_server.base_url}/ui/templates/{template_id}")
    page.get_by_role("link", name="Schedule this template").click()
    page.get_by_label("First run (UTC)").fill(datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule report").click()
    page.wait_for_url(re.compile(r"/ui/reports/\d+\?saved=created"))
    report_id = re.search(r"/reports/(\d+)", page.url).group(1)  # type: ignore[union-attr]
    page.locator("#runs td.status", has_text="Completed").first.wait_for(timeout=RUN_TIMEOUT_MS)
    row = page.locator("#runs tbody tr").first
    assert int(row.locator("td.num").first.inner_text().replace(",", "")) > 0  # rows
    assert re.fullmatch(r"[0-9a-f]{12}…", row.locator("code").inner_text())  # checksum
    with page.expect_download() as download_info:
        row.get_by_role("link", name=re.compile("Download")).click()
    report_file = Path(download_info.value.path())
    assert report_file.read_text(encoding="utf-8").splitlines()[0].startswith("DriverName,FailureName")
    shoot(page, screenshots_dir, "report")
    page.get_by_role("button", name="Pause").click()
    assert "Paused" in page.get_by_role("status").inner_text()
    page.get_by_role("button", name="Resume").click()
    page.get_by_role("navigation").get_by_role("link", name="Schedules").click()
    assert page.get_by_role("link", name=f"Report {report_id}").count() == 1
    shoot(page, screenshots_dir, "reports")

    # A bucket and one of its CABs.
    page.get_by_role("navigation").get_by_role("link", name="Overview").click()
    page.locator("#charts table a").first.click()
    page.wait_for_url(re.compile(r"/ui/buckets/"))
    bucket_url = page.url
    assert page.locator("#chart-trend polyline").count() == 1
    with page.expect_download() as cab_info:
        page.locator("#main a.button", has_text="Download").first.click()
    cab_url = page.locator("#main a.button", has_text="Download").first.get_attribute("href")
    assert Path(cab_info.value.path()).read_bytes().startswith(b"MSCF")
    shoot(page, screenshots_dir, "bucket")
    page.get_by_role("navigation").get_by_role("link", name="Dataset").click()
    assert page.get_by_role("heading", name="IHVDriver (yours)").count() == 1
    assert "rows from" in page.locator("#your-data").inner_text()  # the demo install base is there
    shoot(page, screenshots_dir, "dataset")

    # Failure rates per version, reached from the dataset page: each rate inside its interval.
    page.get_by_role("link", name="failure rates per version").click()
    page.wait_for_url(re.compile(r"/ui/rates"))
    rates = page.locator("#rates tbody tr")
    assert rates.count() > 3
    for cells in (rates.nth(i).locator("td").all_inner_texts() for i in range(rates.count())):
        if cells[4].endswith("%"):
            low, high = (float(x.strip().rstrip("%")) for x in cells[5].split("–"))
            assert low <= float(cells[4].rstrip("%")) <= high, cells
    assert page.get_by_role("heading", name="Regressed versions").count() == 1
    shoot(page, screenshots_dir, "rates")

    # A form posted without this session's CSRF token is refused.
    status = page.evaluate(
        "async (url) => (await fetch(url, {method: 'POST', "
        "body: new URLSearchParams({csrf: 'forged'})})).status",
        f"/ui/reports/{report_id}/delete",
    )
    assert status == 403

    # Sign out: the session is gone.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/ui/signin"))
    page.goto(f"{web_server.base_url}/ui/reports/{report_id}")
    assert "/ui/signin" in page.url

    # A second partner sees none of the first's objects.
    sign_in(page, web_server, IHV2)
    for path in (
        f"/ui/templates/{template_id}",
        f"/ui/reports/{report_id}",
        f"/ui/reports/{report_id}/runs",
        bucket_url.removeprefix(web_server.base_url),
        cab_url,
    ):
        response = page.goto(f"{web_server.base_url}{path}")
        assert response is not None and response.status == 404, path
    page.goto(f"{web_server.base_url}/ui/templates")
    assert page.get_by_role("link", name=f"Template {template_id}").count() == 0
    page.goto(f"{web_server.base_url}/ui/reports")
    assert page.get_by_role("link", name=f"Report {report_id}").count() == 0

    assert errors == [], errors
    assert outside == [], outside


def test_oem_overview_and_keyboard(context: Any, web_server: Server, screenshots_dir: Path) -> None:
    page = context.new_page()
    sign_in(page, web_server, OEM)
    assert page.locator("#chart-per-day polyline").count() == 2
    # Keyboard: the skip link comes first and every control can be reached with Tab.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    seen = set()
    for _ in range(14):
        page.keyboard.press("Tab")
        seen.add(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    assert {"f-days", "f-driver", "f-version", "f-os", "Sign out"} <= seen
    # Every form control has a label.
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
        ".filter(e => !e.labels || e.labels.length === 0).map(e => e.name)"
    )
    assert unlabelled == []
    shoot(page, screenshots_dir, "overview-oem")
