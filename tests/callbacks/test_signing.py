"""Standard Webhooks signing, checked against the published vector and an independent verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from driverlens.callbacks import signing
from driverlens.errors import ValidationFailed


def independent_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def test_standard_webhooks_reference_vector() -> None:
    # The example from the Standard Webhooks specification's reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


def test_headers_and_independent_verification() -> None:
    secret = signing.generate_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    body = b'{"reportId":1}'
    h = signing.headers(secret, "msg_1", 1700000000, body)
    assert h["webhook-id"] == "msg_1" and h["webhook-timestamp"] == "1700000000"
    assert h["content-type"] == "application/json"
    assert h["webhook-signature"] == independent_signature(secret, "msg_1", "1700000000", body)
    assert h["webhook-signature"] != independent_signature(secret, "msg_1", "1700000001", body)


@pytest.mark.parametrize("bad", ["whsec_not base64!", "whsec_c2hvcnQ=", ""])
def test_bad_secret(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        signing.sign(bad, "m", 1, b"")
