"""Signed, expiring download links: HMAC-SHA256 over the object key, expiry, key id and filename.

A link is ``/files/<key>?exp=<unix seconds>&kid=<key id>&sig=<base64url HMAC>[&fn=<name>][&sha256=<hex>]``.
The HMAC covers ``driverlens-link-v1``, key, exp, kid, filename and checksum separated by newlines (none of
them may contain one), so changing any field invalidates the signature. The checksum, when the link
carries one, is the file's SHA-256 that the download answers with (``Repr-Digest``), so clients can verify
what they received. Keys are looked up by ``kid``; rotation
adds a new key and makes it current while older keys keep verifying until removed (see ``keyring``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from driverlens.blobs.store import validate_key
from driverlens.clock import Clock
from driverlens.errors import Forbidden

LINK_PREFIX = "/files/"
EXPIRED_MESSAGE = "link expired, ask report data for a new one"
INVALID_MESSAGE = "invalid signature"
_DOMAIN = b"driverlens-link-v1"
_MAX_EXP_DIGITS = 12
_CLOCK_SKEW_S = 60


@dataclass(frozen=True)
class SignedLink:
    path_and_query: str
    expires_at: datetime

    def absolute(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.path_and_query


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class LinkSigner:
    """Signs and verifies download links with a rotatable key ring and a server-side lifetime cap."""

    def __init__(
        self, keys: Mapping[str, bytes], current_kid: str, max_lifetime: timedelta, clock: Clock
    ) -> None:
        if current_kid not in keys:
            raise ValueError(f"current link key id {current_kid!r} is not in the key ring")
        if any(len(k) < 16 for k in keys.values()):
            raise ValueError("link signing keys must be at least 16 bytes")
        if max_lifetime <= timedelta(0):
            raise ValueError("max_lifetime must be positive")
        self._keys = dict(keys)
        self.current_kid = current_kid
        self.max_lifetime = max_lifetime
        self._clock = clock

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def sign(
        self,
        key: str,
        lifetime: timedelta | None = None,
        *,
        filename: str | None = None,
        sha256: str | None = None,
    ) -> SignedLink:
        """A link to ``key`` valid for ``lifetime`` (never longer than ``max_lifetime``)."""
        validate_key(key)
        if filename is not None:
            _check_filename(filename)
        if sha256 is not None and not _is_sha256(sha256):
            raise ValueError("sha256 must be 64 lower-case hex digits")
        wanted = self.max_lifetime if lifetime is None else min(lifetime, self.max_lifetime)
        if wanted <= timedelta(0):
            raise ValueError("link lifetime must be positive")
        exp = math.floor((self._clock.now() + wanted).timestamp())
        sig = self._signature(self._keys[self.current_kid], key, str(exp), self.current_kid, filename, sha256)
        params = {"exp": str(exp), "kid": self.current_kid, "sig": sig}
        if filename is not None:
            params["fn"] = filename
        if sha256 is not None:
            params["sha256"] = sha256
        path = LINK_PREFIX + quote(key, safe="/")
        return SignedLink(
            path_and_query=f"{path}?{urlencode(params)}",
            expires_at=datetime.fromtimestamp(exp, UTC),
        )

    def verify(
        self,
        key: str,
        exp: str | None,
        kid: str | None,
        sig: str | None,
        filename: str | None = None,
        sha256: str | None = None,
    ) -> None:
        """Return if the link is genuine and unexpired; raise ``Forbidden`` saying which it is not."""
        if not exp or not kid or not sig:
            raise Forbidden(INVALID_MESSAGE)
        if not exp.isascii() or not exp.isdigit() or len(exp) > _MAX_EXP_DIGITS:
            raise Forbidden(INVALID_MESSAGE)
        secret = self._keys.get(kid)
        if secret is None:
            raise Forbidden(INVALID_MESSAGE)
        if "\n" in key or (filename is not None and "\n" in filename):
            raise Forbidden(INVALID_MESSAGE)
        if sha256 is not None and not _is_sha256(sha256):
            raise Forbidden(INVALID_MESSAGE)
        # Compare the canonical text, not decoded bytes: base64 decoders ignore the unused low bits of the
        # last character, so a flipped bit there would otherwise still verify.
        expected = self._signature(secret, key, exp, kid, filename, sha256)
        if not sig.isascii() or not hmac.compare_digest(sig.encode("ascii"), expected.encode("ascii")):
            raise Forbidden(INVALID_MESSAGE)
        now = self._clock.now().timestamp()
        if now >= int(exp):
            raise Forbidden(EXPIRED_MESSAGE)
        if int(exp) > now + self.max_lifetime.total_seconds() + _CLOCK_SKEW_S:
            # Genuine but longer-lived than the server now allows (e.g. the cap was lowered).
            raise Forbidden(INVALID_MESSAGE)

    @staticmethod
    def _signature(
        secret: bytes, key: str, exp: str, kid: str, filename: str | None, sha256: str | None
    ) -> str:
        message = b"\n".join(
            [
                _DOMAIN,
                key.encode("utf-8"),
                exp.encode("ascii"),
                kid.encode("utf-8"),
                (filename or "").encode(),
                (sha256 or "").encode("ascii"),
            ]
        )
        return _b64url(hmac.new(secret, message, hashlib.sha256).digest())


def _check_filename(filename: str) -> None:
    if not filename or len(filename) > 200 or any(c in filename for c in '\n\r\x00/\\"'):
        raise ValueError("download filename must be a plain file name")


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)
