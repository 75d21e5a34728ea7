"""Limits with clear errors: body size (413), nesting depth, list lengths, request rate (429)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.api.conftest import IHV2, OEM
from tests.api.helpers import ihv_template
from tests.api.server import Server


def _nested(depth: int) -> dict[str, Any]:
    condition: dict[str, Any] = {"and": [{"attribute": "Market", "operator": "EQ", "value": "US"}]}
    for _ in range(depth):
        condition = {"and": [{"condition": condition}]}
    return condition


def test_oversized_body_is_413(limited_server: Server) -> None:
    big = json.dumps(ihv_template(projection=["FailureName"] * 2000))
    assert len(big) > 4096
    with limited_server.client(OEM) as api:
        declared = api.post("/analytics/driver/reporttemplate", content=big)

        def chunks() -> Any:
            for i in range(0, len(big), 512):
                yield big[i : i + 512].encode()

        streamed = api.post("/analytics/driver/reporttemplate", content=chunks())
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert response.json()["errors"][0]["code"] == "PayloadTooLarge"


def test_deep_nesting_and_long_lists_are_400(server: Server) -> None:
    with server.client(IHV2) as api:
        deep = api.post("/analytics/driver/reporttemplate", json=ihv_template(condition=_nested(30)))
        very_deep = api.post("/analytics/driver/reporttemplate", content="[" * 100_000 + "]" * 100_000)
        wide = api.post(
            "/analytics/driver/reporttemplate", json=ihv_template(projection=["FailureName"] * 500)
        )
    assert deep.status_code == 400 and "nested" in deep.text
    assert very_deep.status_code in (400, 413)
    assert wide.status_code == 400


def test_rate_limit_is_429_with_retry_after(limited_server: Server) -> None:
    statuses = []
    with limited_server.client(IHV2) as api:
        for _ in range(40):
            response = api.get("/analytics/driver/reporttemplate")
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
    assert statuses[0] == 200
    assert statuses[-1] == 429, statuses
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["errors"][0]["code"] == "TooManyRequests"
    # Another client has its own bucket.
    other = httpx.get(
        limited_server.base_url + "/analytics/driver/reporttemplate",
        headers={"Authorization": f"Bearer {limited_server.token(OEM)}"},
    )
    assert other.status_code == 200
