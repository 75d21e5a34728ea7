"""The shared retry policy: schedule, jitter bounds, exhaustion, Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from driverlens.retry import CALLBACK_RETRY, RUN_RETRY, RetryPolicy, parse_retry_after

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_nominal_schedule_and_cap() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay_s=1, max_delay_s=10, multiplier=2, jitter=0)
    assert [policy.nominal_delay(a) for a in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert policy.delay(3, random.Random(1)) == 4
    assert not policy.exhausted(5) and policy.exhausted(6)


def test_jitter_stays_within_bounds() -> None:
    rng = random.Random(7)
    for attempt in range(1, 14):
        nominal = CALLBACK_RETRY.nominal_delay(attempt)
        for _ in range(50):
            d = CALLBACK_RETRY.delay(attempt, rng)
            assert nominal * 0.9 <= d <= nominal
    full = RetryPolicy(max_attempts=3, base_delay_s=10, max_delay_s=10, jitter=1.0)
    samples = [full.delay(1, rng) for _ in range(200)]
    assert min(samples) < 1 and max(samples) > 9


def test_presets() -> None:
    hours = CALLBACK_RETRY.total_nominal_s() / 3600
    print(f"CALLBACK_RETRY attempts={CALLBACK_RETRY.max_attempts} nominal_total_h={hours:.2f}")
    assert 12 <= CALLBACK_RETRY.max_attempts <= 15
    assert 18 <= hours <= 30
    assert RUN_RETRY.max_attempts <= 5 and RUN_RETRY.total_nominal_s() < 600


def test_retry_after_lengthens_but_is_capped() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay_s=1, max_delay_s=100, jitter=0)
    assert policy.next_delay(1, random.Random(0), 30) == 30
    assert policy.next_delay(1, random.Random(0), 10**6) == 100
    assert policy.next_delay(3, random.Random(0), 0.5) == 4


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("Sun, 01 Mar 2026 12:01:00 GMT", 60.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("-3", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_invalid_policies() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0, base_delay_s=1, max_delay_s=1)
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=1, base_delay_s=1, max_delay_s=1, jitter=1.5)
