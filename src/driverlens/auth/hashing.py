"""Client secrets: generated once, stored only as a salted scrypt hash, compared in constant time.

Stored form: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``, so the cost can be raised later without
invalidating existing secrets. The secrets are 256 random bits, so the work factor guards against a
stolen database being useful for anything at all rather than against guessing; n=2**14 costs ~50 ms.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_DKLEN = 32
_MAXMEM = 64 * 1024 * 1024


def new_client_secret() -> str:
    """A new secret: standard base64 of 32 random bytes (may contain ``+``, ``/`` and ``=``)."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_DKLEN, maxmem=_MAXMEM)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


# Verified against when a client id is unknown, so that the answer takes as long as for a known one.
DUMMY_HASH = hash_secret(new_client_secret())


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` matches the stored hash; malformed hashes never match."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(digest_b64, validate=True)
        actual = _scrypt(secret, salt, int(n), int(r), int(p))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return False
    return hmac.compare_digest(actual, expected)
