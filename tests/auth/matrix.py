"""THE JWT NEGATIVE MATRIX: bad tokens, each with the reason the verifier must give.

Reusable over HTTP: ``bad_tokens(kid, key, baseline_claims(now, issuer=..., tenant=..., client=...))``
gives ``{name: (token, reason)}`` built from the server's real current key (``KeyRing.current()``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from driverlens.auth.tokens import MAX_TOKEN_CHARS
from tests.auth.conftest import AUDIENCE, CLIENT, ISSUER, TENANT
from tests.auth.forge import b64url, public_pem, segment, sign

ATTACKER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())

# ------------------------------------------------------------------------------------------------------
# The negative matrix. Each case builds a token from a VALID baseline (header + claims signed by the
# ring's current key) with one thing wrong, and names the reason the verifier must give.

Builder = Callable[[str, rsa.RSAPrivateKey, dict[str, Any]], str]


def baseline_claims(
    now: int, *, issuer: str = ISSUER, audience: str = AUDIENCE, tenant: str = TENANT, client: str = CLIENT
) -> dict[str, Any]:
    """Claims of a valid token; each matrix entry changes exactly one thing about it."""
    return {
        "iss": issuer,
        "aud": audience,
        "tid": tenant,
        "appid": client,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    }


def with_claims(**changes: Any) -> Builder:
    def build(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
        return sign({"alg": "RS256", "typ": "JWT", "kid": kid}, {**claims, **changes}, key)

    return build


def with_times(**offsets: int) -> Builder:
    """Time claims set relative to now (the baseline's iat)."""

    def build(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
        moved = {name: claims["iat"] + offset for name, offset in offsets.items()}
        return sign({"alg": "RS256", "kid": kid}, {**claims, **moved}, key)

    return build


def without_claim(name: str) -> Builder:
    def build(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
        return sign({"alg": "RS256", "kid": kid}, {k: v for k, v in claims.items() if k != name}, key)

    return build


def with_header(header: dict[str, Any], signing_key: Any = None) -> Builder:
    def build(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
        full = {k: (kid if v == "KID" else v) for k, v in header.items()}
        return sign(full, claims, signing_key if signing_key is not None else key)

    return build


def _hs256_with_public_key(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
    return sign({"alg": "HS256", "kid": kid}, claims, public_pem(key))


def _tampered_payload(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
    head, _, sig = sign({"alg": "RS256", "kid": kid}, claims, key).split(".")
    return f"{head}.{segment({**claims, 'tid': 'another-tenant'})}.{sig}"


def _tampered_signature(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
    head, body, sig = sign({"alg": "RS256", "kid": kid}, claims, key).split(".")
    flipped = ("A" if sig[10] != "A" else "B") + sig[11:]
    return f"{head}.{body}.{sig[:10]}{flipped}"


def _stripped_signature(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
    head, body, _ = sign({"alg": "RS256", "kid": kid}, claims, key).split(".")
    return f"{head}.{body}."


def _raw(text: str) -> Builder:
    return lambda kid, key, claims: text


def _raw_segments(header: bytes, payload: bytes) -> Builder:
    return lambda kid, key, claims: f"{b64url(header)}.{b64url(payload)}.{b64url(b'sig')}"


NEGATIVE_MATRIX: dict[str, tuple[Builder, str]] = {
    "expired": (with_times(iat=-7300, nbf=-7300, exp=-300), "expired"),
    "nbf in the future": (with_times(nbf=300), "not valid yet"),
    "iat in the future beyond leeway": (with_times(iat=300), "issued in the future"),
    "missing exp": (without_claim("exp"), "missing: exp"),
    "missing nbf": (without_claim("nbf"), "missing: nbf"),
    "missing iat": (without_claim("iat"), "missing: iat"),
    "missing iss": (without_claim("iss"), "missing: iss"),
    "missing aud": (without_claim("aud"), "missing: aud"),
    "missing tid": (without_claim("tid"), "missing: tid"),
    "wrong iss": (with_claims(iss="https://sts.windows.net/evil/"), "issuer"),
    "wrong aud": (with_claims(aud="https://graph.microsoft.com"), "audience"),
    "aud list without ours": (with_claims(aud=["https://a.example", "https://b.example"]), "audience"),
    "empty tid": (with_claims(tid=""), "tid"),
    "tid not a string": (with_claims(tid=42), "tid"),
    "exp as string": (with_claims(exp="9999999999"), "NumericDate"),
    "exp as boolean": (with_claims(exp=True), "NumericDate"),
    "alg none": (with_header({"alg": "none", "kid": "KID"}), "algorithm 'none'"),
    "alg None (case)": (with_header({"alg": "None", "kid": "KID"}), "algorithm 'None'"),
    "alg missing": (with_header({"kid": "KID", "typ": "JWT"}), "algorithm None"),
    "HS256 with the public key as secret": (_hs256_with_public_key, "algorithm 'HS256'"),
    "RS512 with the real key": (with_header({"alg": "RS512", "kid": "KID"}), "algorithm 'RS512'"),
    "PS256 with the real key": (with_header({"alg": "PS256", "kid": "KID"}), "algorithm 'PS256'"),
    "ES256 with an EC key": (with_header({"alg": "ES256", "kid": "KID"}, EC_KEY), "algorithm 'ES256'"),
    "unknown kid": (with_header({"alg": "RS256", "kid": "not-a-known-kid"}, ATTACKER), "unknown signing key"),
    "no kid": (with_header({"alg": "RS256"}), "no 'kid'"),
    "kid not a string": (with_header({"alg": "RS256", "kid": 1}), "no 'kid'"),
    "other key with a known kid": (with_header({"alg": "RS256", "kid": "KID"}, ATTACKER), "signature"),
    "jku to attacker keys": (
        with_header({"alg": "RS256", "kid": "attacker", "jku": "https://evil.example/keys"}, ATTACKER),
        "unknown signing key",
    ),
    "jwk header with attacker key, known kid": (
        with_header(
            {"alg": "RS256", "kid": "KID", "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
            ATTACKER,
        ),
        "signature",
    ),
    "x5u to attacker cert": (
        with_header({"alg": "RS256", "kid": "KID", "x5u": "https://evil.example/cert.pem"}, ATTACKER),
        "signature",
    ),
    "crit header": (with_header({"alg": "RS256", "kid": "KID", "crit": ["exp"]}), "crit"),
    "tampered payload": (_tampered_payload, "signature"),
    "tampered signature": (_tampered_signature, "signature"),
    "signature stripped": (_stripped_signature, "signature"),
    "empty": (_raw(""), "missing token"),
    "garbage word": (_raw("garbage"), "3 dot-separated parts"),
    "two dots only": (_raw("a.b"), "3 dot-separated parts"),
    "three dots": (_raw("..."), "3 dot-separated parts"),
    "two dots, empty parts": (_raw(".."), "header is not JSON"),
    "Bearer prefix left in": (_raw("Bearer abc.def.ghi"), "not base64url"),
    "non-ASCII": (_raw("é.é.é"), "not base64url"),
    "base64 with padding chars": (_raw("eyJhbGciOiJSUzI1NiJ9==.e30.c2ln"), "not base64url"),
    "header not JSON": (_raw_segments(b"{not json", b"{}"), "header is not JSON"),
    "header a JSON array": (_raw_segments(b'["RS256"]', b"{}"), "header is not a JSON object"),
    "header not UTF-8": (_raw_segments(b"\xff\xfe{", b"{}"), "header is not JSON"),
    "deeply nested header": (_raw_segments(b"[" * 3000 + b"]" * 3000, b"{}"), "header is not JSON"),
    "payload not JSON": (_raw_segments(b'{"alg":"RS256","kid":"x"}', b"nope"), "payload is not JSON"),
    "exp NaN": (
        _raw_segments(b'{"alg":"RS256","kid":"x"}', b'{"exp":NaN}'),
        "payload is not JSON",
    ),
    "huge token": (_raw("a" * (MAX_TOKEN_CHARS + 1)), "longer than"),
    "huge digits": (
        _raw_segments(b'{"alg":"RS256","kid":"x"}', b'{"exp":' + b"9" * 5000 + b"}"),
        "payload is not JSON",
    ),
}


def bad_tokens(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Every matrix entry built from a valid baseline: ``{name: (token, expected reason)}``."""
    return {name: (build(kid, key, claims), reason) for name, (build, reason) in NEGATIVE_MATRIX.items()}
