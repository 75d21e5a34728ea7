"""Retries, backoff, token caching and error mapping against a scripted local HTTP server."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from driverlens.client import (
    AuthError,
    ConflictError,
    DriverLensClient,
    NetworkError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from tests.api.server import free_port
from tests.client.stub import Reply, Stub, envelope_error, running_stub

LIST = "/analytics/driver/reporttemplate"


@pytest.fixture
def stub() -> Iterator[Stub]:
    with running_stub() as instance:
        yield instance


def make(stub: Stub, sleeps: list[float], **kwargs: object) -> DriverLensClient:
    return DriverLensClient(
        stub.base_url, "tenant", "client", "secret", sleep=sleeps.append, rng=random.Random(1), **kwargs
    )


def test_429_is_retried_after_the_servers_retry_after(stub: Stub) -> None:
    stub.plan(LIST, Reply(429, b"{}", {"Retry-After": "3"}), Reply(200, b'{"data": [], "errors": []}'))
    sleeps: list[float] = []
    with make(stub, sleeps) as client:
        assert client.list_templates() == []
    assert len(stub.hits(LIST)) == 2
    assert sleeps == [pytest.approx(3.0)]  # Retry-After (3 s) wins over the 0.5 s backoff


def test_a_create_is_retried_on_503_but_not_on_500(stub: Stub) -> None:
    stub.plan(LIST, Reply(503), Reply(201, b'{"data": {"templateId": 7}, "errors": []}'))
    sleeps: list[float] = []
    with make(stub, sleeps) as client:
        assert client.create_template({"view": "IHVDriver"}) == 7
        stub.plan(LIST, envelope_error(500, "InternalError", "boom"), Reply(201))
        with pytest.raises(ServerError) as caught:
            client.create_template({"view": "IHVDriver"})
    assert len(stub.hits(LIST)) == 3  # 503 + retry, then one 500 with no retry
    assert caught.value.tracking_id == "track-500" and caught.value.status == 500


def test_reads_are_retried_on_5xx_with_exponential_backoff_then_give_up(stub: Stub) -> None:
    stub.plan(LIST, *[envelope_error(502, "BadGateway", "upstream")] * 4)
    sleeps: list[float] = []
    with make(stub, sleeps, retries=3) as client, pytest.raises(ServerError, match="upstream"):
        client.list_templates()
    assert len(stub.hits(LIST)) == 4
    assert len(sleeps) == 3
    # jitter draws within [nominal/2, nominal] of 0.5, 1, 2 s
    for delay, nominal in zip(sleeps, (0.5, 1.0, 2.0), strict=True):
        assert nominal / 2 <= delay <= nominal


def test_rate_limited_after_every_retry_says_when_to_come_back(stub: Stub) -> None:
    stub.plan(LIST, *[Reply(429, b"{}", {"Retry-After": "1"})] * 3)
    sleeps: list[float] = []
    with make(stub, sleeps, retries=2) as client, pytest.raises(RateLimitedError) as caught:
        client.list_templates()
    assert caught.value.retry_after_s == 1.0 and "retry after 1 s" in str(caught.value)


def test_a_long_retry_after_is_not_slept_through(stub: Stub) -> None:
    stub.plan(LIST, Reply(429, b"{}", {"Retry-After": "3600"}))
    sleeps: list[float] = []
    with make(stub, sleeps) as client, pytest.raises(RateLimitedError):
        client.list_templates()
    assert sleeps == []


def test_unreachable_server_is_a_network_error_after_retries() -> None:
    sleeps: list[float] = []
    port = free_port()
    client = DriverLensClient(f"http://127.0.0.1:{port}", "t", "c", "s", retries=2, sleep=sleeps.append)
    with client, pytest.raises(NetworkError, match="check the base URL"):
        client.list_templates()
    assert len(sleeps) == 2


def test_token_is_cached_and_renewed_five_minutes_before_expiry(stub: Stub) -> None:
    clock = [1_000_000.0]
    sleeps: list[float] = []
    with make(stub, sleeps, now=lambda: clock[0]) as client:
        client.list_templates()
        clock[0] += 3599 - 301  # still more than 5 minutes left
        client.list_templates()
        assert stub.tokens_issued == 1
        clock[0] += 2  # now inside the renewal margin
        client.list_templates()
    assert stub.tokens_issued == 2
    used = [s.headers.get("Authorization") for s in stub.hits(LIST)]
    assert used == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]
    form = stub.hits("/tenant/oauth2/token")[0].body.decode()
    assert "grant_type=client_credentials" in form and "client_id=client" in form
    assert "resource=https%3A%2F%2Fmanage.devcenter.microsoft.com" in form


def test_a_401_renews_the_token_once(stub: Stub) -> None:
    stub.plan(
        LIST, envelope_error(401, "Unauthorized", "token expired"), Reply(200, b'{"data": [], "errors": []}')
    )
    with make(stub, []) as client:
        assert client.list_templates() == []
        stub.plan(LIST, *[envelope_error(401, "Unauthorized", "bad signature")] * 2)
        with pytest.raises(AuthError, match="bad signature"):
            client.list_templates()
    assert stub.tokens_issued == 3


def test_envelope_errors_keep_every_message_target_and_tracking_id(stub: Stub) -> None:
    body = (
        b'{"data": null, "errors": ['
        b'{"code": "InvalidInput", "message": "view: unknown", "target": "view", "trackingId": "t1"},'
        b'{"code": "InvalidInput", "message": "limit: negative", "target": "limit", "trackingId": "t1"}]}'
    )
    stub.plan(LIST, Reply(400, body), envelope_error(409, "Conflict", "in use"))
    with make(stub, []) as client:
        with pytest.raises(ValidationError) as caught:
            client.create_template("{}")
        with pytest.raises(ConflictError):
            client.create_template("{}")
    error = caught.value
    assert error.status == 400 and error.tracking_id == "t1"
    assert error.messages == ["view: unknown", "limit: negative"]
    assert error.targets == ["view", "limit"] and error.codes == ["InvalidInput", "InvalidInput"]
