"""The JWT negative matrix over HTTP: a real server process; every bad token is a 401, never a 5xx."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from driverlens.auth import service
from driverlens.auth.keys import KeyRing
from driverlens.metadata.database import Database
from tests.api.server import AUDIENCE, Creds, Server, prepare_data_dir, start_server
from tests.auth.matrix import NEGATIVE_MATRIX, bad_tokens, baseline_claims, with_claims

PARTNER = "Contoso Graphics"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("auth-http") / "var"
    instance = start_server(data_dir, prepare_data_dir(data_dir, rows=200))
    yield instance
    instance.stop()


def _claims_of(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def _get(server: Server, token: str | bytes) -> httpx.Response:
    # h11 refuses to send trailing whitespace, so an empty token goes as a bare "Bearer".
    header = (b"Bearer " + (token if isinstance(token, bytes) else token.encode("utf-8"))).strip()
    return httpx.get(
        f"{server.base_url}/analytics/driver/reporttemplate", headers={"Authorization": header}, timeout=30
    )


def test_negative_matrix_over_http(live: Server) -> None:
    real = _claims_of(live.token(PARTNER))
    kid, key = KeyRing(live.data_dir).current()  # the server's own key files
    claims = baseline_claims(
        int(time.time()), issuer=real["iss"], audience=AUDIENCE, tenant=real["tid"], client=real["appid"]
    )
    baseline = _get(live, with_claims()(kid, key, claims))
    assert baseline.status_code == 200, baseline.text  # forged like the server, so each flaw is the cause
    statuses: dict[str, int] = {}
    for name, (token, reason) in bad_tokens(kid, key, claims).items():
        response = _get(live, token)
        statuses[name] = response.status_code
        assert response.status_code == 401, (name, response.text)
        [error] = response.json()["errors"]
        assert error["code"] == "Unauthorized" and error["trackingId"]
        if name != "empty":  # an empty bearer is refused by the header parser, before the verifier
            assert reason in error["message"], (name, error["message"])
    print(f"http negative matrix: {len(statuses)} kinds, 401={sum(s == 401 for s in statuses.values())}")
    assert len(statuses) == len(NEGATIVE_MATRIX) >= 15


def test_revoked_client_token_is_refused_at_once(live: Server) -> None:
    database = Database(f"sqlite:///{(live.data_dir / 'metadata.db').resolve()}")
    try:
        with database.session() as session:
            client_id, secret = service.add_client(session, PARTNER)
            tenant = service.get_partner(session, PARTNER).tenant_id
        extra = Creds(PARTNER, live.partners[PARTNER].kind, tenant, client_id, secret)
        live.partners["revocable"] = extra
        token = live.token("revocable")
        assert _get(live, token).status_code == 200
        with database.session() as session:
            service.revoke_client(session, client_id)
        response = _get(live, token)
        assert response.status_code == 401
        assert "revoked" in response.json()["errors"][0]["message"]
        again = httpx.post(
            f"{live.base_url}/{tenant}/oauth2/token",
            content=f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
            f"&resource={AUDIENCE}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )
        assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    finally:
        database.dispose()


def test_raw_and_encoded_token_requests(live: Server) -> None:
    creds = live.partners[PARTNER]
    raw = f"grant_type=client_credentials&client_id={creds.client_id}&client_secret={creds.secret}"
    encoded = httpx.QueryParams(
        {"grant_type": "client_credentials", "client_id": creds.client_id, "client_secret": creds.secret}
    )
    for body, path, extra in [
        (raw, "oauth2/token", f"&resource={AUDIENCE}"),
        (str(encoded), "oauth2/token", f"&resource={AUDIENCE}"),
        (raw, "oauth2/v2.0/token", f"&scope={AUDIENCE}/.default"),
    ]:
        response = httpx.post(
            f"{live.base_url}/{creds.tenant_id}/{path}",
            content=body + extra,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert _get(live, response.json()["access_token"]).status_code == 200


def test_jwks_endpoint_serves_the_ring(live: Server) -> None:
    creds = live.partners[PARTNER]
    keys = httpx.get(f"{live.base_url}/{creds.tenant_id}/discovery/keys", timeout=30).json()["keys"]
    assert KeyRing(Path(live.data_dir)).current()[0] in [k["kid"] for k in keys]
