"""A real server process on the Azure Blob store (Azurite): report data and CAB redirects hand out SAS
URLs that download the exact files with a plain HTTP client; retention deletes the blobs."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from driverlens.blobs.backend import blob_store_from_settings
from driverlens.blobs.store import BlobStore
from driverlens.metadata.database import Database
from driverlens.runs.retention import purge_files
from driverlens.settings import Settings
from tests.api.conftest import IHV, OEM
from tests.api.events_lookup import cabs_of, read_cab
from tests.api.helpers import created_id, new_report, new_template, run_due_runs
from tests.api.server import Server, prepare_data_dir, start_server
from tests.fixtures_azurite import Azurite


@dataclass
class AzureServer:
    server: Server
    env: dict[str, str]
    blobs: BlobStore

    @property
    def container_url(self) -> str:
        return self.env["DRIVERLENS_AZURE_BLOB_CONTAINER_URL"]

    def settings(self) -> Settings:
        return Settings(data_dir=self.server.data_dir, **_overrides(self.env))


def _overrides(env: dict[str, str]) -> dict[str, str]:
    return {key.removeprefix("DRIVERLENS_").lower(): value for key, value in env.items()}


@pytest.fixture(scope="module")
def azure_server(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzureServer]:
    env = azurite.settings_env(azurite.create_container())
    data_dir = tmp_path_factory.mktemp("azure-api") / "var"
    blobs = blob_store_from_settings(Settings(data_dir=data_dir, **_overrides(env)))
    partners = prepare_data_dir(data_dir, rows=5_000, blobs=blobs)
    server = start_server(data_dir, partners, env)
    yield AzureServer(server, env, blobs)
    server.stop()


def _completed_report(azure: AzureServer) -> tuple[int, str]:
    """A report with one completed (manual) run, executed in this process on the Azure store."""
    today = datetime.now(UTC).date().isoformat()
    with azure.server.client(IHV) as api:
        report_id = new_report(api, new_template(api))
        assert created_id(api.post(f"/analytics/driver/report/{report_id}/run"), "reportId") == report_id
    assert run_due_runs(azure.server.data_dir, **_overrides(azure.env)) >= 1
    return report_id, today


def _report_data(azure: AzureServer, report_id: int, day: str) -> dict[str, object]:
    with azure.server.client(IHV) as api:
        response = api.get(
            f"/analytics/driver/reportdata/{report_id}", params={"startDate": day, "endDate": day}
        )
    assert response.status_code == 200, response.text
    items = response.json()["data"]
    assert len(items) == 1
    return dict(items[0])


def test_report_location_is_a_sas_url_that_downloads_the_exact_file(azure_server: AzureServer) -> None:
    report_id, day = _completed_report(azure_server)
    item = _report_data(azure_server, report_id, day)
    assert item["ReportStatus"] == "Completed"
    location = str(item["ReportLocation"])
    assert location.startswith(azure_server.container_url + "/reports/")
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["sp"] == "r" and query["sr"] == "b" and query["sig"]
    expires = datetime.strptime(query["se"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(hours=11, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=12)

    download = httpx.get(location)  # no bearer token, no Azure SDK
    assert download.status_code == 200, download.text
    key = urlsplit(location).path.split("/", 3)[3]  # /<account>/<container>/<key>
    with azure_server.blobs.open_read(key) as handle:
        stored = handle.read()
    assert download.content == stored and stored.startswith(b"FailureName,DriverName,SUM(EventCount)")
    assert hashlib.sha256(download.content).hexdigest() == item["ReportSha256"]
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="report-{report_id}-' in download.headers["content-disposition"]
    assert download.headers["content-disposition"].endswith("-manual.csv")

    time.sleep(1.1)  # SAS times are whole seconds: a later call must carry a later expiry
    again = str(_report_data(azure_server, report_id, day)["ReportLocation"])
    assert again != location and dict(parse_qsl(urlsplit(again).query))["se"] > query["se"]
    assert httpx.get(again).content == download.content


def test_cab_redirect_is_a_sas_url_that_downloads_the_cab(azure_server: AzureServer, tmp_path: Path) -> None:
    data_dir = azure_server.server.data_dir
    ihv_cab = cabs_of(data_dir, "IhvPartner", IHV)[0]
    oem_cab = cabs_of(data_dir, "OemPartner", OEM)[0]
    with azure_server.server.client(IHV) as api:
        ihv = api.get(
            "/v1.0/my/analytics/driver/cabdownload",
            params={"applicationId": ihv_cab.application_id, "cabIdHash": ihv_cab.cab_id_hash},
        )
    with azure_server.server.client(OEM) as api:
        oem = api.get("/v1.0/my/analytics/hardware/cabdownload", params={"cabIdHash": oem_cab.cab_id_hash})
    for response, cab_id in ((ihv, ihv_cab.cab_id_hash), (oem, oem_cab.cab_id_hash)):
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(azure_server.container_url + "/cabs/") and "sig=" in location
        download = httpx.get(location)
        assert download.status_code == 200 and download.content.startswith(b"MSCF")
        assert download.headers["content-type"] == "application/vnd.ms-cab-compressed"
        assert f'filename="{cab_id}.cab"' in download.headers["content-disposition"]
        assert read_cab(download.content, tmp_path).dump_type in ("Kernel", "Mini")


def test_healthz_reports_the_blob_container(azure_server: AzureServer) -> None:
    response = httpx.get(azure_server.server.base_url + "/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["blobs"] == "ok"
    assert "AccountKey" not in response.text and "sig=" not in response.text


def test_retention_deletes_run_files_and_clears_their_links(azure_server: AzureServer) -> None:
    report_id, day = _completed_report(azure_server)
    location = str(_report_data(azure_server, report_id, day)["ReportLocation"])
    assert httpx.get(location).status_code == 200
    settings = azure_server.settings()
    db = Database(settings.metadata_url)
    try:
        deleted, unlinked = purge_files(db, azure_server.blobs, datetime.now(UTC) + timedelta(days=31))
    finally:
        db.dispose()
    assert deleted >= 1 and unlinked >= 1
    assert httpx.get(location).status_code == 404  # the blob itself is gone, not only the link
    assert _report_data(azure_server, report_id, day)["ReportLocation"] == ""
