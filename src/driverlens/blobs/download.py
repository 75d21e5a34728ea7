"""The download-link port: a fresh, expiring, read-only URL to one blob, named for the partner.

Use cases ask for links through this port only; which store holds the blob decides the adapter:
``SignedFileLinks`` (the server's own HMAC-signed ``/files/...`` links, for the local store) or
``driverlens.blobs.azure_sas.AzureSasLinks`` (Azure SAS URLs, for the Azure Blob store).
"""

from __future__ import annotations

from typing import Protocol

from driverlens.blobs.links import LinkSigner


class DownloadLinks(Protocol):
    """Makes download URLs valid for the configured link lifetime (12 hours at most)."""

    def url(self, key: str, filename: str | None = None, sha256: str | None = None) -> str:
        """An absolute URL that downloads blob ``key`` as ``filename`` without a bearer token.

        ``sha256`` is the file's checksum when known; an adapter that can carry it (the local one
        answers with ``Repr-Digest``) does, the others ignore it (report data lists it anyway).
        """
        ...


class SignedFileLinks:
    """Links to the server's own ``GET /files/...`` route, signed with the link key ring."""

    def __init__(self, signer: LinkSigner, public_base_url: str) -> None:
        self.signer = signer
        self._base_url = public_base_url

    def url(self, key: str, filename: str | None = None, sha256: str | None = None) -> str:
        return self.signer.sign(key, filename=filename, sha256=sha256).absolute(self._base_url)
