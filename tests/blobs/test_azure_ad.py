"""Azure AD mode against Azurite over HTTPS with OAuth: blobs written with a bearer token, and
user-delegation SAS links (signed with a key fetched from the service) that download, expire and
refuse tampering. Azure AD itself is off the machine: ``EmulatorAdCredential`` stands in for it."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from driverlens.blobs.azure_sas import AzureSasLinks
from driverlens.blobs.backend import BlobBackend, blob_backend_from_settings
from driverlens.clock import FrozenClock
from driverlens.settings import Settings
from tests.fixtures_azurite import Azurite, EmulatorAdCredential


@pytest.fixture
def ad_backend(
    azurite_oauth: Azurite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[BlobBackend, EmulatorAdCredential, FrozenClock]:
    assert azurite_oauth.cert_path is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azurite_oauth.cert_path))  # the SDK trusts the emulator
    container = azurite_oauth.create_container()
    settings = Settings(
        data_dir=tmp_path,
        blob_store="azure",
        azure_blob_container_url=azurite_oauth.container_url(container),
        azure_storage_use_ad=True,
    )
    credential = EmulatorAdCredential()
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    return blob_backend_from_settings(settings, clock, ad_credential=credential), credential, clock


def test_user_delegation_sas_downloads_expires_and_refuses_tampering(
    azurite_oauth: Azurite, ad_backend: tuple[BlobBackend, EmulatorAdCredential, FrozenClock], tmp_path: Path
) -> None:
    backend, credential, clock = ad_backend
    verify = ssl.create_default_context(cafile=str(azurite_oauth.cert_path))
    src = tmp_path / "r.csv"
    src.write_bytes(b"FailureName\nx\n")
    backend.store.put_file("reports/1/r.csv", src)  # written with the bearer token, no account key
    assert credential.requests >= 1 and backend.store.readiness() == "ok"
    links = backend.links
    assert isinstance(links, AzureSasLinks) and links.kind == "user-delegation SAS (Azure AD)"

    url = links.url("reports/1/r.csv", "report-1.csv")
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["skoid"] == EmulatorAdCredential.OBJECT_ID and query["sktid"] == EmulatorAdCredential.TENANT
    assert (query["sp"], query["spr"]) == ("r", "https")
    response = httpx.get(url, verify=verify)
    assert response.status_code == 200, response.text
    assert response.content == b"FailureName\nx\n"
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="report-1.csv"' in response.headers["content-disposition"]

    second = links.url("reports/1/r.csv", "again.csv")
    assert httpx.get(second, verify=verify).status_code == 200
    assert links._delegation is not None and links._delegation.fetches == 1  # one key for both links

    head, sig = url.rsplit("&sig=", 1)
    tampered = f"{head}&sig={'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    assert httpx.get(tampered, verify=verify).status_code == 403

    clock.advance(timedelta(hours=-12, seconds=-30))
    expired = links.url("reports/1/r.csv", "old.csv")
    assert httpx.get(expired, verify=verify).status_code == 403
