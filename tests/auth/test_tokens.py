"""Issuer/verifier round trip, rotation, and THE JWT NEGATIVE MATRIX (every bad token -> Unauthorized)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driverlens.auth.keys import KeyRing
from driverlens.auth.tokens import TokenIssuer, TokenVerifier
from driverlens.clock import FrozenClock
from driverlens.errors import Unauthorized
from tests.auth.conftest import AUDIENCE, CLIENT, ISSUER, TENANT
from tests.auth.matrix import NEGATIVE_MATRIX, baseline_claims, with_claims, with_header, with_times


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
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(old_token)
    fresh = TokenVerifier(keyring, ISSUER, AUDIENCE, clock)  # no memory of having verified it
    with pytest.raises(Unauthorized, match="unknown signing key"):
        fresh.verify(old_token)


def test_a_pruned_key_stops_its_remembered_tokens_at_once(
    keyring: KeyRing, issuer: TokenIssuer, verifier: TokenVerifier, clock: FrozenClock
) -> None:
    token = issuer.issue(tenant_id=TENANT, client_id=CLIENT)["access_token"]
    assert verifier.verify(token)["appid"] == CLIENT  # now remembered
    old_kid = keyring.current()[0]
    keyring.rotate()
    clock.advance(timedelta(seconds=1))
    assert keyring.prune(older_than_s=0) == [old_kid]  # an operator retiring a leaked key early
    with pytest.raises(Unauthorized, match="unknown signing key"):
        verifier.verify(token)


def test_remembered_tokens_are_still_checked_for_time(
    issuer: TokenIssuer, verifier: TokenVerifier, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("driverlens.auth.tokens.VERIFIED_CACHE_SIZE", 3)
    tokens = [issuer.issue(tenant_id=TENANT, client_id=f"c{i}")["access_token"] for i in range(5)]
    for token in tokens:
        verifier.verify(token)
    assert len(verifier._verified) == 3
    claims = verifier.verify(tokens[-1])
    claims["tid"] = "changed"  # callers get a copy
    assert verifier.verify(tokens[-1])["tid"] == TENANT
    clock.advance(timedelta(seconds=3600 + 60))
    for token in tokens:
        with pytest.raises(Unauthorized, match="expired"):
            verifier.verify(token)


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


def test_matrix_is_big_enough() -> None:
    assert len(NEGATIVE_MATRIX) >= 15


def test_matrix_baseline_verifies(keyring: KeyRing, verifier: TokenVerifier, clock: FrozenClock) -> None:
    """The builders start from a token the verifier accepts, so each rejection is due to its one flaw."""
    kid, key = keyring.current()
    claims = baseline_claims(int(clock.now().timestamp()))
    assert verifier.verify(with_claims()(kid, key, claims))["tid"] == TENANT
    assert verifier.verify(with_header({"alg": "RS256", "kid": "KID"})(kid, key, claims))["tid"] == TENANT
    # Near the leeway limits it still verifies.
    near = with_times(nbf=59, iat=59, exp=-59)
    assert verifier.verify(near(kid, key, claims))["tid"] == TENANT


@pytest.mark.parametrize(
    ("offsets", "reason"),
    [({"exp": -60}, "expired"), ({"nbf": 61}, "not valid yet"), ({"iat": 61}, "issued in the future")],
)
def test_leeway_is_exactly_sixty_seconds(
    offsets: dict[str, int], reason: str, keyring: KeyRing, verifier: TokenVerifier, clock: FrozenClock
) -> None:
    kid, key = keyring.current()
    token = with_times(**offsets)(kid, key, baseline_claims(int(clock.now().timestamp())))
    with pytest.raises(Unauthorized, match=reason):
        verifier.verify(token)


@pytest.mark.parametrize("name", list(NEGATIVE_MATRIX))
def test_negative_matrix(name: str, keyring: KeyRing, verifier: TokenVerifier, clock: FrozenClock) -> None:
    kid, key = keyring.current()
    token = NEGATIVE_MATRIX[name][0](kid, key, baseline_claims(int(clock.now().timestamp())))
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
