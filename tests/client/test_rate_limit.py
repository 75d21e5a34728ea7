"""Retry on 429 against a real server whose rate limit is low: the client waits as told and succeeds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from driverlens.client import DriverLensClient, RateLimitedError
from tests.api.server import Creds, Server, start_server
from tests.client.conftest import IHV

PER_MINUTE = 60


@pytest.fixture(scope="module")
def limited_server(client_data: tuple[Path, dict[str, Creds]]) -> Iterator[Server]:
    data_dir, partners = client_data
    instance = start_server(data_dir, partners, {"DRIVERLENS_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE)})
    yield instance
    instance.stop()


def test_429_is_retried_after_the_servers_retry_after(limited_server: Server) -> None:
    creds = limited_server.partners[IHV]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    args = (limited_server.base_url, creds.tenant_id, creds.client_id, creds.secret)
    calls = 0
    with DriverLensClient(*args, sleep=sleep) as client:
        started = time.monotonic()
        # the burst is one minute's allowance; slow calls refill it, so keep going until a 429 came
        while not slept and calls < PER_MINUTE * 4:
            client.list_reports()
            calls += 1
        client.list_reports()  # and the bucket still lets a patient client through
        elapsed = time.monotonic() - started
    assert slept and max(slept) >= 1.0, slept  # Retry-After (whole seconds) was honoured
    with DriverLensClient(*args, retries=0) as impatient, pytest.raises(RateLimitedError) as caught:
        for _ in range(PER_MINUTE * 4):
            impatient.list_reports()
    error = caught.value
    assert error.status == 429 and error.retry_after_s and error.tracking_id
    assert "too many requests" in error.messages[0]
    print(f"rate limit: {len(slept)} waits, {sum(slept):.1f} s slept, {calls + 1} calls in {elapsed:.1f} s")
