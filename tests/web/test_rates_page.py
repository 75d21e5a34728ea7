"""The failure-rates page (/ui/rates) over HTTP against a real server with an install base."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from driverlens.events import EventStore
from driverlens.installs.synthetic import synthetic_installs
from tests.api.server import Server, prepare_data_dir, start_server
from tests.web.conftest import IHV, OEM, sign_in


@pytest.fixture(scope="module")
def rates_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("web-rates") / "var"
    partners = prepare_data_dir(data_dir, rows=4000)
    synthetic_installs(EventStore(data_dir), days=31, now=datetime.now(UTC) + timedelta(days=1), seed=5)
    instance = start_server(data_dir, partners)
    yield instance
    instance.stop()


@pytest.fixture
def client(rates_server: Server) -> Iterator[httpx.Client]:
    signed = sign_in(rates_server, IHV)
    try:
        yield signed
    finally:
        signed.close()


def _cells(html: str) -> list[list[str]]:
    body = html.split('<table id="rates">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows
    ]


def test_the_page_shows_rates_intervals_and_previous_versions(client: httpx.Client) -> None:
    page = client.get("/ui/rates")
    assert page.status_code == 200, page.text
    assert 'href="/ui/rates" aria-current="page"' in page.text
    rows = _cells(page.text)
    assert len(rows) > 5
    with_rate = [r for r in rows if r[4].endswith("%")]
    assert with_rate, rows
    for row in with_rate:
        rate = float(row[4].rstrip("%"))
        low, high = (float(x.strip().rstrip("%")) for x in row[5].split("–"))
        assert low <= rate <= high
    assert any(r[6] for r in rows), "no version with a previous one"
    assert all(r[9] in ("Regressed", "no") for r in rows)
    assert ("Regressed versions" in page.text) and ("No version regressed." in page.text) == (
        not any(r[9] == "Regressed" for r in rows)
    )


def test_the_driver_filter_and_window_apply(client: httpx.Client) -> None:
    rows = _cells(client.get("/ui/rates").text)
    driver = rows[0][0]
    filtered = _cells(client.get("/ui/rates", params={"driver": driver, "days": "90"}).text)
    assert filtered and {r[0] for r in filtered} == {driver}


def test_bad_input_is_a_400_and_another_partner_sees_only_its_own(rates_server: Server) -> None:
    ihv, oem = sign_in(rates_server, IHV), sign_in(rates_server, OEM)
    try:
        assert ihv.get("/ui/rates", params={"days": "7"}).status_code == 400
        ihv_drivers = {r[0] for r in _cells(ihv.get("/ui/rates").text)}
        oem_page = oem.get("/ui/rates")
        assert oem_page.status_code == 200
        oem_rows = _cells(oem_page.text) if '<table id="rates">' in oem_page.text else []
    finally:
        ihv.close()
        oem.close()
    assert ihv_drivers and all(r[3] for r in oem_rows)  # the OEM's install base is scoped to it


def test_the_page_needs_a_session(rates_server: Server) -> None:
    with httpx.Client(base_url=rates_server.base_url) as anonymous:
        response = anonymous.get("/ui/rates")
    assert response.status_code == 303 and response.headers["location"].startswith("/ui/signin")
