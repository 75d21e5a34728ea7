"""Download links for the Azure Blob store: read-only blob SAS URLs that expire with the link lifetime.

A service SAS is signed locally with the storage account key (no request to Azure). Where the operator
configures Azure AD instead of a key, a user-delegation SAS is signed with a user delegation key that is
fetched from the service with the AD credential and cached until it is too close to its own expiry to
cover a whole link lifetime. Either way the URL names the file's content type (``rsct``) and offers it
under the download name (``rscd``), and grants nothing but reading that one blob until it expires.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Protocol

from azure.core.exceptions import AzureError
from azure.storage.blob import BlobSasPermissions, UserDelegationKey, generate_blob_sas

from driverlens.blobs.content import attachment_disposition, content_type_for
from driverlens.blobs.store import validate_key
from driverlens.clock import Clock
from driverlens.errors import BlobStoreUnavailable

# A SAS starts a little before "now": a storage front end whose clock runs behind ours would otherwise
# refuse a fresh link as not yet valid.
CLOCK_SKEW = timedelta(minutes=5)
DELEGATION_KEY_LIFETIME = timedelta(days=1)


class DelegationKeyService(Protocol):
    """What fetches user delegation keys: ``azure.storage.blob.BlobServiceClient`` with an AD credential."""

    def get_user_delegation_key(
        self, key_start_time: datetime, key_expiry_time: datetime
    ) -> UserDelegationKey: ...


class DelegationKeys:
    """Caches one user delegation key; fetches a new one when the cached one ends before ``needed_until``."""

    def __init__(self, service: DelegationKeyService, clock: Clock) -> None:
        self._service = service
        self._clock = clock
        self._lock = threading.Lock()
        self._key: UserDelegationKey | None = None
        self._expires: datetime | None = None
        self.fetches = 0

    def key_covering(self, needed_until: datetime) -> UserDelegationKey:
        with self._lock:
            if self._key is None or self._expires is None or self._expires < needed_until:
                now = self._clock.now()
                expires = max(now + DELEGATION_KEY_LIFETIME, needed_until)
                try:
                    self._key = self._service.get_user_delegation_key(now - CLOCK_SKEW, expires)
                except AzureError as exc:
                    raise BlobStoreUnavailable(
                        f"cannot get a user delegation key from the blob store ({type(exc).__name__})"
                    ) from exc
                self._expires = expires
                self.fetches += 1
            return self._key


class AzureSasLinks:
    """The ``DownloadLinks`` adapter for ``AzureBlobStore``: one SAS URL per call, never reused."""

    def __init__(
        self,
        container_url: str,
        account_name: str,
        lifetime: timedelta,
        clock: Clock,
        *,
        account_key: str | None = None,
        delegation: DelegationKeys | None = None,
    ) -> None:
        if (account_key is None) == (delegation is None):
            raise ValueError("sign SAS links with exactly one of an account key or user delegation keys")
        if lifetime <= timedelta(0):
            raise ValueError("link lifetime must be positive")
        self.container_url = container_url.rstrip("/")
        self.account_name = account_name
        self.container_name = self.container_url.rsplit("/", 1)[-1]
        self.lifetime = lifetime
        self._clock = clock
        self._account_key = account_key
        self._delegation = delegation
        # An https endpoint gets https-only links; plain http (the emulator) could not be reached so.
        self._protocol = "https" if self.container_url.startswith("https://") else None

    @property
    def kind(self) -> str:
        return "service SAS (account key)" if self._account_key else "user-delegation SAS (Azure AD)"

    def url(self, key: str, filename: str | None = None, sha256: str | None = None) -> str:
        """A read-only SAS URL for blob ``key``, valid for ``lifetime``; ``sha256`` is not carried."""
        validate_key(key)
        now = self._clock.now()
        expiry = now + self.lifetime
        name = filename or key.rsplit("/", 1)[-1]
        delegation_key = self._delegation.key_covering(expiry) if self._delegation else None
        token = generate_blob_sas(
            self.account_name,
            self.container_name,
            key,
            account_key=self._account_key,
            user_delegation_key=delegation_key,
            permission=BlobSasPermissions(read=True),
            start=now - CLOCK_SKEW,
            expiry=expiry,
            protocol=self._protocol,
            content_type=content_type_for(key),
            content_disposition=attachment_disposition(name),
        )
        # Keys are validated to [A-Za-z0-9._-] segments, so they need no escaping in the path.
        return f"{self.container_url}/{key}?{token}"
