"""Blob storage (report files, CABs) and signed, expiring download links."""

from driverlens.blobs.keyring import add_link_key, load_keyring, signer_from_settings
from driverlens.blobs.links import EXPIRED_MESSAGE, INVALID_MESSAGE, LinkSigner, SignedLink
from driverlens.blobs.retention import PurgeReport, purge_blobs
from driverlens.blobs.store import BlobInfo, BlobStore, LocalBlobStore, validate_key

__all__ = [
    "EXPIRED_MESSAGE",
    "INVALID_MESSAGE",
    "BlobInfo",
    "BlobStore",
    "LinkSigner",
    "LocalBlobStore",
    "PurgeReport",
    "SignedLink",
    "add_link_key",
    "load_keyring",
    "purge_blobs",
    "signer_from_settings",
    "validate_key",
]
