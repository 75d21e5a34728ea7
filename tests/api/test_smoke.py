from __future__ import annotations

from tests.api.conftest import IHV
from tests.api.server import Server


def test_healthz_and_token(server: Server) -> None:
    with server.client(IHV) as client:
        response = client.get("/analytics/driver/reporttemplate")
    assert response.status_code == 200, response.text
    assert response.json() == {"data": [], "errors": []} or response.json()["errors"] == []
