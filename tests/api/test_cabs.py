"""CAB downloads: entitlement from the partner's own events, signed redirects, paged batch listing."""

from __future__ import annotations

from pathlib import Path

import httpx

from driverlens.events.demo import DEMO_PARTNERS
from tests.api.conftest import IHV, OEM
from tests.api.events_lookup import busiest_failure, cabs_of, read_cab
from tests.api.server import Server

DEMO_APPLICATION_IDS = [app for p in DEMO_PARTNERS for app in p.application_ids + p.submission_ids]


def test_ihv_downloads_its_cab_through_a_signed_redirect(server: Server, tmp_path: Path) -> None:
    cab = cabs_of(server.data_dir, "IhvPartner", IHV)[0]
    params = {"applicationId": cab.application_id, "cabIdHash": cab.cab_id_hash}
    with server.client(IHV) as api:
        first = api.get("/v1.0/my/analytics/driver/cabdownload", params=params)
        second = api.get("/v1.0/my/analytics/driver/cabdownload", params=params)
    assert first.status_code == 302, first.text
    location = first.headers["location"]
    assert location.startswith(f"{server.base_url}/files/") and "sig=" in location
    body_one = httpx.get(location)
    body_two = httpx.get(second.headers["location"])
    assert body_one.status_code == 200
    assert body_one.content == body_two.content and body_one.content.startswith(b"MSCF")
    facts = read_cab(body_one.content, tmp_path)  # a real cabinet holding a dump the parsers read
    assert facts.dump_type in ("Kernel", "Mini") and facts.faulting_module
    assert f"{cab.cab_id_hash}.cab" in body_one.headers["content-disposition"]


def test_oem_downloads_through_the_hardware_endpoint(server: Server, tmp_path: Path) -> None:
    cab = cabs_of(server.data_dir, "OemPartner", OEM)[0]
    with server.client(OEM) as api:
        ok = api.get("/v1.0/my/analytics/hardware/cabdownload", params={"cabIdHash": cab.cab_id_hash})
        wrong_endpoint = api.get(
            "/v1.0/my/analytics/driver/cabdownload",
            params={"applicationId": "1", "cabIdHash": cab.cab_id_hash},
        )
    assert ok.status_code == 302
    download = httpx.get(ok.headers["location"])
    assert download.status_code == 200 and read_cab(download.content, tmp_path).os_build
    # The OEM view has no application or submission id: neither the link, the name nor the file has one.
    for app in DEMO_APPLICATION_IDS:
        assert app not in ok.headers["location"] and app not in download.headers["content-disposition"]
        assert app.encode() not in download.content
    assert wrong_endpoint.status_code == 403


def test_missing_parameters_are_400(server: Server) -> None:
    with server.client(IHV) as api:
        response = api.get("/v1.0/my/analytics/driver/cabdownload")
    assert response.status_code == 400
    assert {e["target"] for e in response.json()["errors"]} == {"cabIdHash", "applicationId"}


def test_batch_pages_with_next_link_and_total(server: Server) -> None:
    application_id, failure_hash, count = busiest_failure(server.data_dir, IHV)
    assert count >= 2
    params = {"applicationId": application_id, "failureHash": failure_hash, "top": "1"}
    with server.client(IHV) as api:
        first = api.get("/v1.0/my/analytics/driver/cabdownloadbatch", params=params)
        assert first.status_code == 200, first.text
        page = first.json()
        assert page["TotalCount"] == count and len(page["Value"]) == 1
        assert page["data"]["Value"] == page["Value"] and page["errors"] == []
        item = page["Value"][0]
        assert item["failureHash"] == failure_hash and item["applicationId"] == application_id
        assert httpx.get(item["cabUrl"]).status_code == 200
        second = api.get(page["@nextLink"]).json()
        assert second["Value"][0]["cabIdHash"] != item["cabIdHash"]
        too_many = api.get("/v1.0/my/analytics/driver/cabdownloadbatch", params={**params, "top": "101"})
        bad_hash = api.get(
            "/v1.0/my/analytics/driver/cabdownloadbatch", params={**params, "failureHash": "nope"}
        )
    assert too_many.status_code == 400
    assert bad_hash.status_code == 400
    with server.client(IHV) as api:
        last = api.get(
            "/v1.0/my/analytics/driver/cabdownloadbatch",
            params={**params, "top": "100", "skip": str(count - 1)},
        ).json()
    assert last["TotalCount"] == count and len(last["Value"]) == 1
    assert "@nextLink" not in last
