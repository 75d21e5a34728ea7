"""Choosing the blob store from the settings, refusing incomplete Azure settings, and the cache of user
delegation keys (Azure AD is off the machine: its key service is faked; the SAS signing is the SDK's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from azure.core.exceptions import ServiceRequestError
from azure.storage.blob import UserDelegationKey
from pydantic import ValidationError

from driverlens.blobs.azure_sas import AzureSasLinks, DelegationKeys
from driverlens.blobs.backend import blob_backend_from_settings, parse_connection_string
from driverlens.blobs.download import SignedFileLinks
from driverlens.blobs.store import LocalBlobStore
from driverlens.clock import FrozenClock
from driverlens.errors import BlobStoreUnavailable, ValidationFailed
from driverlens.settings import Settings

T0 = datetime(2026, 3, 1, tzinfo=UTC)
URL = "https://acct.blob.core.windows.net/reports"
KEY = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5"


def test_the_local_store_with_signed_files_links_is_the_default(tmp_path: Path) -> None:
    backend = blob_backend_from_settings(Settings(data_dir=tmp_path), FrozenClock(T0))
    assert isinstance(backend.store, LocalBlobStore) and isinstance(backend.links, SignedFileLinks)
    link = backend.links.url("reports/a.csv", "a.csv", "ab" * 32)
    assert link.startswith("http://127.0.0.1:8000/files/reports/a.csv?") and "sha256=" + "ab" * 32 in link
    assert backend.store.readiness() == "ok"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "DRIVERLENS_AZURE_BLOB_CONTAINER_URL"),
        ({"azure_blob_container_url": "https://acct.blob.core.windows.net"}, "the container's URL"),
        ({"azure_blob_container_url": "ftp://acct/reports", "azure_storage_account_key": KEY}, "container"),
        ({"azure_blob_container_url": URL}, "found: none"),
        (
            {"azure_blob_container_url": URL, "azure_storage_account_key": KEY, "azure_storage_use_ad": True},
            "found: DRIVERLENS_AZURE_STORAGE_ACCOUNT_KEY, DRIVERLENS_AZURE_STORAGE_USE_AD",
        ),
    ],
)
def test_incomplete_azure_settings_are_refused_at_start(
    tmp_path: Path, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match="DRIVERLENS_BLOB_STORE=azure") as caught:
        Settings(data_dir=tmp_path, blob_store="azure", **fields)
    assert message in str(caught.value)


def test_secrets_do_not_show_in_the_settings_repr(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, blob_store="azure", azure_blob_container_url=URL, azure_storage_account_key=KEY
    )
    assert KEY not in repr(settings) and KEY not in str(settings.model_dump())


def test_a_connection_string_without_an_account_key_is_refused(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        blob_store="azure",
        azure_blob_container_url=URL,
        azure_storage_connection_string="BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=x",
    )
    with pytest.raises(ValidationFailed, match="AccountName and AccountKey"):
        blob_backend_from_settings(settings, FrozenClock(T0))


def test_account_key_settings_sign_service_sas_links(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, blob_store="azure", azure_blob_container_url=URL, azure_storage_account_key=KEY
    )
    backend = blob_backend_from_settings(settings, FrozenClock(T0))
    assert "service SAS" in backend.description
    url = backend.links.url("reports/1/a.csv", "a.csv")
    query = dict(parse_qsl(urlsplit(url).query))
    assert url.startswith(URL + "/reports/1/a.csv?")
    assert (query["sp"], query["sr"], query["spr"]) == ("r", "b", "https")  # https endpoint: https only
    assert query["se"] == "2026-03-01T12:00:00Z" and "skoid" not in query


def test_connection_strings_keep_base64_padding() -> None:
    parts = parse_connection_string(f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY}==;")
    assert parts == {"defaultendpointsprotocol": "https", "accountname": "acct", "accountkey": KEY + "=="}


class FakeKeyService:
    """Stands in for Azure AD + Get User Delegation Key (off the machine)."""

    def __init__(self) -> None:
        self.calls: list[tuple[datetime, datetime]] = []
        self.fail = False

    def get_user_delegation_key(
        self, key_start_time: datetime, key_expiry_time: datetime
    ) -> UserDelegationKey:
        if self.fail:
            raise ServiceRequestError("no route to login.microsoftonline.com")
        self.calls.append((key_start_time, key_expiry_time))
        key = UserDelegationKey()
        key.signed_oid = "00000000-0000-0000-0000-00000000000a"
        key.signed_tid = "00000000-0000-0000-0000-00000000000b"
        key.signed_start = key_start_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_expiry = key_expiry_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_service = "b"
        key.signed_version = "2025-01-05"
        key.value = KEY
        return key


def test_user_delegation_sas_reuses_one_key_until_it_would_not_cover_a_link() -> None:
    clock = FrozenClock(T0)
    service = FakeKeyService()
    links = AzureSasLinks(URL, "acct", timedelta(hours=12), clock, delegation=DelegationKeys(service, clock))
    first = dict(parse_qsl(urlsplit(links.url("reports/a.csv", "a.csv")).query))
    clock.advance(timedelta(hours=11))
    links.url("reports/b.csv", "b.csv")
    assert len(service.calls) == 1  # the key (valid a day) still covers a link ending at T0 + 23 h
    assert first["skoid"] == "00000000-0000-0000-0000-00000000000a" and first["sp"] == "r"
    clock.advance(timedelta(hours=2))  # a link now ends at T0 + 25 h, after the key: a new key
    links.url("reports/c.csv", "c.csv")
    assert len(service.calls) == 2 and service.calls[1][1] >= clock.now() + timedelta(hours=12)
    service.fail = True
    clock.advance(timedelta(days=2))
    with pytest.raises(BlobStoreUnavailable, match="user delegation key"):
        links.url("reports/d.csv", "d.csv")


def test_a_sas_signer_needs_exactly_one_key_source() -> None:
    clock = FrozenClock(T0)
    with pytest.raises(ValueError, match="exactly one"):
        AzureSasLinks(URL, "acct", timedelta(hours=1), clock)
    with pytest.raises(ValueError, match="exactly one"):
        AzureSasLinks(
            URL,
            "acct",
            timedelta(hours=1),
            clock,
            account_key=KEY,
            delegation=DelegationKeys(FakeKeyService(), clock),
        )


def test_azure_ad_settings_sign_user_delegation_sas_links(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, blob_store="azure", azure_blob_container_url=URL, azure_storage_use_ad=True
    )
    backend = blob_backend_from_settings(settings, FrozenClock(T0))  # builds the credential, asks nothing yet
    assert "user-delegation SAS" in backend.description
    links = backend.links
    assert isinstance(links, AzureSasLinks) and links.kind == "user-delegation SAS (Azure AD)"
