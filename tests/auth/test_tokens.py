"""Issuer/verifier round trip, rotation, and THE JWT NEGATIVE MATRIX (every bad token -> Unauthorized)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driverlens.auth.keys import KeyRing
from driverlens.auth.tokens import MAX_TOKEN_CHARS, TokenIssuer, TokenVerifier
from driverlens.clock import FrozenClock
from driverlens.errors import Unauthorized
from tests.auth.conftest import AUDIENCE, CLIENT, ISSUER, TENANT
from tests.auth.forge import b64url, public_pem, segment, sign

ATTACKER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def test_round_trip_v1_response(issuer: TokenIssuer, verifier: TokenVerifier, clock: FrozenClock) -> None:
    response = issuer.issue(tenant_id=TENANT, client_id=CLIENT)
    now = int(clock.now().timestamp())
    assert response["token_type"] == "Bearer"
    assert response["expires_in"] == "3599"
    assert response["ext_expires_in"] == "3599"
    assert response["expires_on"] == str(now + 3600)
    assert response["resource"] == AUDIENCE
    claims = verifier.verify(response["access_token"])
    assert claims["tid"] == TENANT and claims["appid"] == CLIENT
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (now, now, now + 3600)


def test_v2_response_uses_integers(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    response = issuer.issue(tenant_id=TENANT, client_id=CLIENT, version="v2")
    assert response["expires_in"] == 3599 and "resource" not in response
    assert verifier.verify(response["access_token"])["tid"] == TENANT


def test_token_valid_until_expiry_plus_leeway(
    issuer: TokenIssuer, verifier: TokenVerifier, clock: FrozenClock
) -> None:
    token = issuer.issue(tenant_id=TENANT, client_id=CLIENT)["access_token"]
    clock.advance(timedelta(seconds=3600 + 59))
    verifier.verify(token)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(token)


def test_rotation_old_tokens_keep_verifying_new_tokens_use_new_kid(
    keyring: KeyRing, issuer: TokenIssuer, verifier: TokenVerifier, clock: FrozenClock
) -> None:
    old_token = issuer.issue(tenant_id=TENANT, client_id=CLIENT)["access_token"]
    old_kid = keyring.current()[0]
    new_kid = keyring.rotate()
    new_token = issuer.issue(tenant_id=TENANT, client_id=CLIENT)["access_token"]
    assert header_of(old_token)["kid"] == old_kid
    assert header_of(new_token)["kid"] == new_kid != old_kid
    assert verifier.verify(old_token)["appid"] == CLIENT
    assert verifier.verify(new_token)["appid"] == CLIENT
    # After lifetime + margin the retired key may go; its tokens have expired by then anyway.
    clock.advance(timedelta(seconds=3600 + 301))
    assert keyring.prune(older_than_s=3600 + 300) == [old_kid]
    with pytest.raises(Unauthorized, match="unknown signing key"):
        verifier.verify(old_token)


def test_rotation_by_another_process_is_seen_by_a_running_verifier(
    keyring: KeyRing, verifier: TokenVerifier, clock: FrozenClock
) -> None:
    keyring.current()
    other = KeyRing(keyring.dir.parent, clock=clock)
    other.rotate()
    token = TokenIssuer(other, ISSUER, AUDIENCE, 3600, clock).issue(tenant_id=TENANT, client_id=CLIENT)
    assert verifier.verify(token["access_token"])["tid"] == TENANT


def header_of(token: str) -> dict[str, Any]:
    import base64
    import json

    head = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))))


# ------------------------------------------------------------------------------------------------------
# The negative matrix. Each case builds a token from a VALID baseline (header + claims signed by the
# ring's current key) with one thing wrong, and names the reason the verifier must give.

Builder = Callable[[str, rsa.RSAPrivateKey, dict[str, Any]], str]


def _claims(now: int) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "tid": TENANT,
        "appid": CLIENT,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    }


def _with(**changes: Any) -> Builder:
    def build(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
        return sign({"alg": "RS256", "typ": "JWT", "kid": kid}, {**claims, **changes}, key)

    return build


def _relative(**offsets: int) -> Builder:
    """Time claims set relative to now (the baseline's iat)."""

    def build(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
        moved = {name: claims["iat"] + offset for name, offset in offsets.items()}
        return sign({"alg": "RS256", "kid": kid}, {**claims, **moved}, key)

    return build


def _without(name: str) -> Builder:
    def build(kid: str, key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
        return sign({"alg": "RS256", "kid": kid}, {k: v for k, v in claims.items() if k != name}, key)

    return build


def _header(header: dict[str, Any], signing_key: Any = None) -> Builder:
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
    "expired": (_relative(iat=-7300, nbf=-7300, exp=-61), "expired"),
    "nbf in the future": (_relative(nbf=61), "not valid yet"),
    "iat in the future beyond leeway": (_relative(iat=61), "issued in the future"),
    "missing exp": (_without("exp"), "missing: exp"),
    "missing nbf": (_without("nbf"), "missing: nbf"),
    "missing iat": (_without("iat"), "missing: iat"),
    "missing iss": (_without("iss"), "missing: iss"),
    "missing aud": (_without("aud"), "missing: aud"),
    "missing tid": (_without("tid"), "missing: tid"),
    "wrong iss": (_with(iss="https://sts.windows.net/evil/"), "issuer"),
    "wrong aud": (_with(aud="https://graph.microsoft.com"), "audience"),
    "aud list without ours": (_with(aud=["https://a.example", "https://b.example"]), "audience"),
    "empty tid": (_with(tid=""), "tid"),
    "tid not a string": (_with(tid=42), "tid"),
    "exp as string": (_with(exp="9999999999"), "NumericDate"),
    "exp as boolean": (_with(exp=True), "NumericDate"),
    "alg none": (_header({"alg": "none", "kid": "KID"}), "algorithm 'none'"),
    "alg None (case)": (_header({"alg": "None", "kid": "KID"}), "algorithm 'None'"),
    "alg missing": (_header({"kid": "KID", "typ": "JWT"}), "algorithm None"),
    "HS256 with the public key as secret": (_hs256_with_public_key, "algorithm 'HS256'"),
    "RS512 with the real key": (_header({"alg": "RS512", "kid": "KID"}), "algorithm 'RS512'"),
    "PS256 with the real key": (_header({"alg": "PS256", "kid": "KID"}), "algorithm 'PS256'"),
    "ES256 with an EC key": (_header({"alg": "ES256", "kid": "KID"}, EC_KEY), "algorithm 'ES256'"),
    "unknown kid": (_header({"alg": "RS256", "kid": "not-a-known-kid"}, ATTACKER), "unknown signing key"),
    "no kid": (_header({"alg": "RS256"}), "no 'kid'"),
    "kid not a string": (_header({"alg": "RS256", "kid": 1}), "no 'kid'"),
    "other key with a known kid": (_header({"alg": "RS256", "kid": "KID"}, ATTACKER), "signature"),
    "jku to attacker keys": (
        _header({"alg": "RS256", "kid": "attacker", "jku": "https://evil.example/keys"}, ATTACKER),
        "unknown signing key",
    ),
    "jwk header with attacker key, known kid": (
        _header(
            {"alg": "RS256", "kid": "KID", "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
            ATTACKER,
        ),
        "signature",
    ),
    "x5u to attacker cert": (
        _header({"alg": "RS256", "kid": "KID", "x5u": "https://evil.example/cert.pem"}, ATTACKER),
        "signature",
    ),
    "crit header": (_header({"alg": "RS256", "kid": "KID", "crit": ["exp"]}), "crit"),
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


def test_matrix_is_big_enough() -> None:
    assert len(NEGATIVE_MATRIX) >= 15


def test_matrix_baseline_verifies(keyring: KeyRing, verifier: TokenVerifier, clock: FrozenClock) -> None:
    """The builders start from a token the verifier accepts, so each rejection is due to its one flaw."""
    kid, key = keyring.current()
    claims = _claims(int(clock.now().timestamp()))
    assert verifier.verify(_with()(kid, key, claims))["tid"] == TENANT
    assert verifier.verify(_header({"alg": "RS256", "kid": "KID"})(kid, key, claims))["tid"] == TENANT
    # Near the leeway limits it still verifies.
    near = _relative(nbf=59, iat=59, exp=-59)
    assert verifier.verify(near(kid, key, claims))["tid"] == TENANT


@pytest.mark.parametrize("name", list(NEGATIVE_MATRIX))
def test_negative_matrix(name: str, keyring: KeyRing, verifier: TokenVerifier, clock: FrozenClock) -> None:
    kid, key = keyring.current()
    token = NEGATIVE_MATRIX[name][0](kid, key, _claims(int(clock.now().timestamp())))
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    assert NEGATIVE_MATRIX[name][1] in caught.value.message
    assert caught.value.status == 401


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300) | st.from_regex(r"[A-Za-z0-9_\-]{0,40}(\.[A-Za-z0-9_\-=+/]{0,60}){2}"))
def test_arbitrary_text_only_ever_raises_unauthorized(verifier: TokenVerifier, text: str) -> None:
    with pytest.raises(Unauthorized):
        verifier.verify(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), replacement=st.characters(codec="ascii"))
def test_single_character_mutations_never_escape_as_other_errors(
    issuer: TokenIssuer, verifier: TokenVerifier, position: int, replacement: str
) -> None:
    token = issuer.issue(tenant_id=TENANT, client_id=CLIENT)["access_token"]
    i = position % len(token)
    mutated = token[:i] + replacement + token[i + 1 :]
    try:
        claims = verifier.verify(mutated)
    except Unauthorized:
        return
    # Only a change in unused trailing base64 bits can leave the token valid; then nothing changed.
    assert claims == verifier.verify(token)
