"""The one place that picks the blob store and its download links from the settings.

``DRIVERLENS_BLOB_STORE=local`` (the default): ``LocalBlobStore`` under ``<data dir>/blobs`` with the
server's own signed ``/files`` links. ``azure``: ``AzureBlobStore`` on the configured container with SAS
links, signed by the account key (from the connection string or the key setting) or, with Azure AD, by
user delegation keys. Nothing else in DriverLens asks which store is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from driverlens.blobs.download import DownloadLinks, SignedFileLinks
from driverlens.blobs.keyring import signer_from_settings
from driverlens.blobs.links import LinkSigner
from driverlens.blobs.store import BlobStore, LocalBlobStore
from driverlens.clock import Clock, SystemClock
from driverlens.errors import Problem, ValidationFailed
from driverlens.settings import Settings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from driverlens.blobs.azure_store import AzureBlobStore

# Larger files go up in blocks of this size, at most two at a time: an upload holds about 8 MiB in memory
# whatever the file's size (the SDK's default single put would read up to 64 MiB at once).
BLOCK_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True)
class BlobBackend:
    """The configured store, the links to its blobs, and the local signer (``/files`` stays mounted)."""

    store: BlobStore
    links: DownloadLinks
    signer: LinkSigner
    description: str


def blob_store_from_settings(
    settings: Settings, clock: Clock | None = None, *, ad_credential: TokenCredential | None = None
) -> BlobStore:
    """The configured blob store (workers and commands need no links)."""
    if settings.blob_store == "azure":
        return _azure_store(settings, clock or SystemClock(), _credential(settings, ad_credential))
    return LocalBlobStore(settings.blobs_dir, clock)


def blob_backend_from_settings(
    settings: Settings, clock: Clock, *, ad_credential: TokenCredential | None = None
) -> BlobBackend:
    """The configured store with its download links, for the API process.

    ``ad_credential`` replaces ``DefaultAzureCredential`` when the settings ask for Azure AD (tests).
    """
    signer = signer_from_settings(settings, clock)
    if settings.blob_store != "azure":
        store = LocalBlobStore(settings.blobs_dir, clock)
        links = SignedFileLinks(signer, settings.public_base_url)
        return BlobBackend(store, links, signer, "local directory, signed /files links")
    from driverlens.blobs.azure_sas import AzureSasLinks, DelegationKeys

    credential = _credential(settings, ad_credential)
    azure = _azure_store(settings, clock, credential)
    lifetime = timedelta(hours=settings.link_lifetime_hours)
    url = settings.azure_blob_container_url.strip().rstrip("/")
    account_name = str(azure.container.account_name)
    if credential is not None:
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient(url.rsplit("/", 1)[0], credential=credential)
        sas = AzureSasLinks(url, account_name, lifetime, clock, delegation=DelegationKeys(service, clock))
    else:
        _, key = _account_key(settings, account_name)
        sas = AzureSasLinks(url, account_name, lifetime, clock, account_key=key)
    return BlobBackend(azure, sas, signer, f"Azure Blob container {azure.container_name!r}, {sas.kind}")


def _azure_store(settings: Settings, clock: Clock, ad_credential: TokenCredential | None) -> AzureBlobStore:
    """The store on the configured container, with ``ad_credential`` (Azure AD) or the account key."""
    from azure.core.credentials import AzureNamedKeyCredential
    from azure.storage.blob import ContainerClient, LinearRetry

    from driverlens.blobs.azure_store import AzureBlobStore

    url = settings.azure_blob_container_url.strip().rstrip("/")
    options: dict[str, Any] = {
        "max_single_put_size": BLOCK_SIZE,
        "max_block_size": BLOCK_SIZE,
        # The SDK's default waits 15 s, 18 s, 24 s between tries: too long for a request in flight (this
        # gives up after about 4 s). Runs retry on their own schedule (a failed upload: Pending again).
        "retry_policy": LinearRetry(backoff=1, retry_total=2, random_jitter_range=1),
        "connection_timeout": 10,
        "read_timeout": 120,
    }
    if ad_credential is not None:
        container = ContainerClient.from_container_url(url, credential=ad_credential, **options)
    else:
        probe = ContainerClient.from_container_url(url)
        name, key = _account_key(settings, str(probe.account_name))
        container = ContainerClient.from_container_url(
            url, credential=AzureNamedKeyCredential(name, key), **options
        )
    return AzureBlobStore(container, clock)


def _credential(settings: Settings, given: TokenCredential | None) -> TokenCredential | None:
    """The Azure AD credential when the settings ask for one (``given``, else DefaultAzureCredential)."""
    if not settings.azure_storage_use_ad:
        return None
    if given is not None:
        return given
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _account_key(settings: Settings, account_from_url: str) -> tuple[str, str]:
    """(account name, key) from the connection string, or the URL's account and the key setting."""
    key = settings.azure_storage_account_key.get_secret_value().strip()
    if key:
        return account_from_url, key
    parts = parse_connection_string(settings.azure_storage_connection_string.get_secret_value())
    name, key = parts.get("accountname", ""), parts.get("accountkey", "")
    if not name or not key:
        raise ValidationFailed(
            [
                Problem(
                    "DRIVERLENS_AZURE_STORAGE_CONNECTION_STRING",
                    "must carry AccountName and AccountKey (SAS links are signed with the account key; "
                    "for Azure AD set DRIVERLENS_AZURE_STORAGE_USE_AD=true instead)",
                    code="InvalidConfiguration",
                )
            ]
        )
    return name, key


def parse_connection_string(text: str) -> dict[str, str]:
    """``Key=Value;...`` as a dict with lower-case keys (values keep any ``=``, as base64 keys end)."""
    parts: dict[str, str] = {}
    for item in text.split(";"):
        name, sep, value = item.strip().partition("=")
        if sep and name.strip():
            parts[name.strip().lower()] = value.strip()
    return parts
