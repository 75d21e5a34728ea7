"""Tokens and bearer checks through HTTP (the full JWT matrix lives in tests/auth at unit level)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.api.conftest import IHV, OEM
from tests.api.server import AUDIENCE, Server

PATH = "/analytics/driver/reporttemplate"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(server: Server, **overrides: Any) -> dict[str, Any]:
    creds = server.partners[IHV]
    now = int(time.time())
    claims = {
        "iss": server.base_url,
        "aud": AUDIENCE,
        "tid": creds.tenant_id,
        "appid": creds.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _genuine_header(server: Server) -> dict[str, Any]:
    token = server.token(IHV)
    padded = token.split(".")[0] + "=" * (-len(token.split(".")[0]) % 4)
    header: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return header


def _bad_tokens(server: Server) -> dict[str, str]:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = _genuine_header(server)["kid"]
    good = server.token(IHV)
    head, payload, sig = good.split(".")
    return {
        "garbage": "not-a-token",
        "two parts": "a.b",
        "alg none": f"{_b64({'alg': 'none', 'kid': kid})}.{_b64(_claims(server))}.",
        "HS256": jwt.encode(
            _claims(server), "secret-secret-secret-secret-32b!", algorithm="HS256", headers={"kid": kid}
        ),
        "foreign key": jwt.encode(_claims(server), stranger, algorithm="RS256", headers={"kid": kid}),
        "unknown kid": jwt.encode(_claims(server), stranger, algorithm="RS256", headers={"kid": "nope"}),
        "altered payload": f"{head}.{_b64({**_claims(server), 'tid': 'someone-else'})}.{sig}",
        "truncated signature": f"{head}.{payload}.{sig[:-8]}",
    }


@pytest.mark.parametrize(
    "name",
    [
        "garbage",
        "two parts",
        "alg none",
        "HS256",
        "foreign key",
        "unknown kid",
        "altered payload",
        "truncated signature",
    ],
)
def test_bad_tokens_are_401_with_a_challenge(server: Server, name: str) -> None:
    token = _bad_tokens(server)[name]
    response = httpx.get(server.base_url + PATH, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = response.json()["errors"][0]
    assert error["code"] == "Unauthorized" and error["trackingId"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}],
    ids=["none", "empty", "basic", "bearer without token"],
)
def test_missing_or_malformed_authorization_is_401(server: Server, headers: dict[str, str]) -> None:
    response = httpx.get(server.base_url + PATH, headers=headers)
    assert response.status_code == 401
    assert "Bearer" in response.json()["errors"][0]["message"]


def test_expired_token_is_401_saying_so(server: Server, tmp_path: Any) -> None:
    # Signing a genuine-looking expired token needs the server's private key, which is in its data dir.
    from driverlens.auth.keys import KeyRing

    kid, key = KeyRing(server.data_dir).current()
    past = int(time.time()) - 7200
    token = jwt.encode(
        _claims(server, iat=past, nbf=past, exp=past + 3600), key, algorithm="RS256", headers={"kid": kid}
    )
    response = httpx.get(server.base_url + PATH, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["message"]
    wrong_audience = jwt.encode(
        _claims(server, aud="https://other"), key, algorithm="RS256", headers={"kid": kid}
    )
    response = httpx.get(server.base_url + PATH, headers={"Authorization": f"Bearer {wrong_audience}"})
    assert response.status_code == 401


def test_token_v1_with_encoded_values_and_v2(server: Server) -> None:
    creds = server.partners[OEM]
    encoded = (
        f"grant_type=client_credentials&client_id={quote(creds.client_id)}"
        f"&client_secret={quote(creds.secret, safe='')}&resource={quote(AUDIENCE, safe='')}"
    )
    v1 = httpx.post(
        f"{server.base_url}/{creds.tenant_id}/oauth2/token",
        content=encoded,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert v1.status_code == 200, v1.text
    v2 = httpx.post(
        f"{server.base_url}/{creds.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": creds.client_id,
            "client_secret": creds.secret,
            "scope": f"{AUDIENCE}/.default",
        },
    )
    assert v2.status_code == 200, v2.text
    assert isinstance(v2.json()["expires_in"], int)
    for issued in (v1.json(), v2.json()):
        check = httpx.get(
            server.base_url + PATH, headers={"Authorization": f"Bearer {issued['access_token']}"}
        )
        assert check.status_code == 200


def test_token_errors_follow_the_azure_ad_shape(server: Server) -> None:
    creds = server.partners[IHV]
    url = f"{server.base_url}/{creds.tenant_id}/oauth2/token"
    wrong_secret = httpx.post(
        url,
        content=f"grant_type=client_credentials&client_id={creds.client_id}"
        f"&client_secret=wrong&resource={AUDIENCE}",
    )
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    bad_grant = httpx.post(
        url,
        content=f"grant_type=password&client_id={creds.client_id}"
        f"&client_secret={creds.secret}&resource={AUDIENCE}",
    )
    assert bad_grant.status_code == 400
    assert bad_grant.json()["error"] == "unsupported_grant_type"
    empty = httpx.post(url, content="")
    assert empty.status_code == 400 and "error_description" in empty.json()
    other_tenant = httpx.post(
        f"{server.base_url}/{server.partners[OEM].tenant_id}/oauth2/token",
        content=f"grant_type=client_credentials&client_id={creds.client_id}"
        f"&client_secret={creds.secret}&resource={AUDIENCE}",
    )
    assert other_tenant.status_code == 401


def test_discovery_documents(server: Server) -> None:
    tenant = server.partners[IHV].tenant_id
    keys = httpx.get(f"{server.base_url}/{tenant}/discovery/keys").json()["keys"]
    assert _genuine_header(server)["kid"] in {k["kid"] for k in keys}
    assert httpx.get(f"{server.base_url}/{tenant}/discovery/v2.0/keys").json()["keys"] == keys
    config = httpx.get(f"{server.base_url}/{tenant}/.well-known/openid-configuration").json()
    assert config["jwks_uri"] == f"{server.base_url}/{tenant}/discovery/keys"
    assert config["issuer"] == server.base_url
    v2 = httpx.get(f"{server.base_url}/{tenant}/v2.0/.well-known/openid-configuration")
    assert v2.status_code == 200
