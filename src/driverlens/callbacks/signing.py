"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``.

The secret is ``whsec_<base64 of the key bytes>``; receivers verify with any Standard Webhooks library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from driverlens.errors import Problem, ValidationFailed

SECRET_PREFIX = "whsec_"


def generate_secret(num_bytes: int = 32) -> str:
    """A fresh ``whsec_`` secret (24-64 bytes, as the scheme recommends)."""
    if not 24 <= num_bytes <= 64:
        raise ValueError("webhook secrets are 24 to 64 bytes")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(num_bytes)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_<base64>`` secret."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed(
            [
                Problem(
                    path="callbackSecret", message="must be 'whsec_' followed by base64", code="InvalidSecret"
                )
            ]
        ) from exc
    if len(key) < 16:
        raise ValidationFailed(
            [Problem(path="callbackSecret", message="must encode at least 16 bytes", code="InvalidSecret")]
        )
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one attempt."""
    signed = msg_id.encode("utf-8") + b"." + str(int(timestamp)).encode("ascii") + b"." + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Headers of one delivery attempt: a stable id, a fresh timestamp and its signature."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }
