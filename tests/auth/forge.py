"""Hand-built JWTs for the negative tests: any header, any payload, any algorithm, any key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def segment(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def sign(header: dict[str, Any], payload: Any, key: Any) -> str:
    """Sign with the algorithm named in the header (none/HS256/RS256/RS512/PS256/ES256)."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    data = signing_input.encode("ascii")
    alg = str(header.get("alg", "RS256")).upper()  # no alg: sign RS256 anyway
    if alg == "NONE":
        signature = b""
    elif alg.startswith("HS"):
        secret = key if isinstance(key, bytes) else key.encode()
        signature = hmac.new(secret, data, hashlib.sha256).digest()
    elif alg in ("RS256", "RS512"):
        assert isinstance(key, rsa.RSAPrivateKey)
        digest = hashes.SHA256() if alg == "RS256" else hashes.SHA512()
        signature = key.sign(data, padding.PKCS1v15(), digest)
    elif alg == "PS256":
        assert isinstance(key, rsa.RSAPrivateKey)
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        signature = key.sign(data, pss, hashes.SHA256())
    elif alg == "ES256":
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        raise AssertionError(f"forge cannot sign {alg}")
    return f"{signing_input}.{b64url(signature)}"


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
