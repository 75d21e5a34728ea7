"""Trusting an external Azure AD tenant: JWKS fetched (from a local fake transport) and cached."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from driverlens.auth import service
from driverlens.auth.jwks import AzureAdTrust, JwksCache
from driverlens.auth.keys import KeyRing, SigningKey, thumbprint
from driverlens.auth.tokens import TokenIssuer, TokenVerifier
from driverlens.clock import FrozenClock
from driverlens.errors import ServiceUnavailable, Unauthorized, ValidationFailed
from driverlens.metadata.database import Database
from tests.auth.conftest import AUDIENCE, ISSUER
from tests.auth.forge import sign

AAD_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AAD_ISSUER = f"https://sts.windows.net/{AAD_TENANT}/"
AAD_AUDIENCE = "https://manage.devcenter.microsoft.com"
JWKS_URL = "https://login.microsoftonline.com/common/discovery/keys"
AAD_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
AAD_KID = thumbprint(AAD_KEY.public_key())


class FakeAzureAd:
    """Serves a JWKS like login.microsoftonline.com would, and counts the requests."""

    def __init__(self, keys: list[rsa.RSAPrivateKey]) -> None:
        self.keys = keys
        self.requests = 0
        self.fail = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        assert str(request.url) == JWKS_URL
        if self.fail:
            return httpx.Response(503)
        jwks = [
            SigningKey(thumbprint(k.public_key()), 0, None, None, k).public_jwk()  # type: ignore[arg-type]
            for k in self.keys
        ]
        jwks.append({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"})  # skipped
        return httpx.Response(200, json={"keys": jwks})


@pytest.fixture
def fake() -> FakeAzureAd:
    return FakeAzureAd([AAD_KEY])


@pytest.fixture
def aad_verifier(keyring: KeyRing, clock: FrozenClock, fake: FakeAzureAd) -> TokenVerifier:
    client = httpx.Client(transport=httpx.MockTransport(fake.handler))
    trust = AzureAdTrust.from_settings(AAD_ISSUER, AAD_AUDIENCE, JWKS_URL, client=client, clock=clock)
    return TokenVerifier(keyring, ISSUER, AUDIENCE, clock, external=trust)


def aad_token(
    clock: FrozenClock,
    appid: str,
    *,
    kid: str = AAD_KID,
    key: rsa.RSAPrivateKey = AAD_KEY,
    drop: tuple[str, ...] = (),
    **changes: Any,
) -> str:
    now = int(clock.now().timestamp())
    claims = {
        "aud": AAD_AUDIENCE,
        "iss": AAD_ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "appid": appid,
        "tid": AAD_TENANT,
        **changes,
    }
    return sign(
        {"alg": "RS256", "kid": kid, "x5t": kid}, {k: v for k, v in claims.items() if k not in drop}, key
    )


def test_azure_ad_token_maps_to_partner_via_client_rows(
    db: Database, aad_verifier: TokenVerifier, clock: FrozenClock, fake: FakeAzureAd
) -> None:
    with db.session() as session:
        service.add_partner(session, "Contoso", "IHV", tenant_id=AAD_TENANT)
        client_id, _ = service.add_client(session, "Contoso")
    claims = aad_verifier.verify(aad_token(clock, client_id))
    with db.session() as session:
        principal = service.principal_from_claims(session, claims)
    assert principal.partner_name == "Contoso" and principal.tenant_id == AAD_TENANT
    for _ in range(5):
        aad_verifier.verify(aad_token(clock, client_id))
    assert fake.requests == 1  # cached


def test_own_tokens_still_verify_alongside(
    aad_verifier: TokenVerifier, issuer: TokenIssuer, clock: FrozenClock, fake: FakeAzureAd
) -> None:
    token = issuer.issue(tenant_id=AAD_TENANT, client_id="x")["access_token"]
    assert aad_verifier.verify(token)["iss"] == ISSUER
    assert fake.requests == 0  # own tokens never touch the network


def test_keys_do_not_cross_between_issuers(
    aad_verifier: TokenVerifier, keyring: KeyRing, clock: FrozenClock
) -> None:
    own_kid, own_key = keyring.current()
    # Claims of the Azure AD issuer signed with our key: looked up in the Azure AD JWKS -> unknown.
    with pytest.raises(Unauthorized, match="unknown signing key"):
        aad_verifier.verify(aad_token(clock, "x", kid=own_kid, key=own_key))
    # Our issuer signed with the Azure AD key: looked up in our ring -> unknown.
    with pytest.raises(Unauthorized, match="unknown signing key"):
        aad_verifier.verify(aad_token(clock, "x", iss=ISSUER))


def test_azure_ad_claims_are_checked(aad_verifier: TokenVerifier, clock: FrozenClock) -> None:
    with pytest.raises(Unauthorized, match="audience"):
        aad_verifier.verify(aad_token(clock, "x", aud="https://graph.microsoft.com"))
    with pytest.raises(Unauthorized, match="expired"):
        aad_verifier.verify(aad_token(clock, "x", exp=int(clock.now().timestamp()) - 120))
    with pytest.raises(Unauthorized, match="missing: tid"):
        aad_verifier.verify(aad_token(clock, "x", drop=("tid",)))
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized, match="signature"):
        aad_verifier.verify(aad_token(clock, "x", key=attacker))


def test_unknown_kid_refetches_at_most_once_per_interval(
    aad_verifier: TokenVerifier, clock: FrozenClock, fake: FakeAzureAd
) -> None:
    aad_verifier.verify(aad_token(clock, "x"))
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    new_kid = thumbprint(new_key.public_key())
    fake.keys.append(new_key)  # Azure AD rolled a key
    token = aad_token(clock, "x", kid=new_kid, key=new_key)
    for _ in range(10):
        with pytest.raises(Unauthorized, match="unknown signing key"):
            aad_verifier.verify(token)
    assert fake.requests == 1
    clock.advance(timedelta(seconds=61))
    assert aad_verifier.verify(token)["appid"] == "x"
    assert fake.requests == 2


def test_jwks_outage(clock: FrozenClock, fake: FakeAzureAd) -> None:
    client = httpx.Client(transport=httpx.MockTransport(fake.handler))
    cache = JwksCache(JWKS_URL, client=client, clock=clock, ttl_s=3600)
    fake.fail = True
    with pytest.raises(ServiceUnavailable):
        cache.key(AAD_KID)
    fake.fail = False
    assert cache.key(AAD_KID) is not None
    fake.fail = True
    clock.advance(timedelta(hours=2))  # stale, refetch fails: the keys we have keep working
    assert cache.key(AAD_KID) is not None


def test_trust_configuration() -> None:
    assert AzureAdTrust.from_settings("", "", "") is None
    with pytest.raises(ValidationFailed, match="AZURE_AD_JWKS_URL"):
        AzureAdTrust.from_settings(AAD_ISSUER, AAD_AUDIENCE, "")
