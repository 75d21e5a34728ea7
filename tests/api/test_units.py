"""Unit tests of the API's small parts: rate limiter, principal cache, metrics, schedule bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from driverlens.api.metrics import Metrics
from driverlens.api.principals import PrincipalCache
from driverlens.api.ratelimit import RateLimiter
from driverlens.auth.principal import Principal
from driverlens.catalog import PartnerKind
from driverlens.errors import RateLimited
from driverlens.usecases.schedule_input import UNSET, read_report_body
from driverlens.usecases.timestamps import iso_utc, parse_day, parse_utc

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeTime:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def test_rate_limiter_allows_a_burst_then_says_when_to_retry() -> None:
    clock = FakeTime()
    limiter = RateLimiter(60, burst=3, now=clock)
    for _ in range(3):
        limiter.check("a")
    with pytest.raises(RateLimited) as caught:
        limiter.check("a")
    assert caught.value.retry_after_seconds == 1
    limiter.check("b")  # another key has its own bucket
    clock.value += 1.0
    limiter.check("a")  # one token refilled after a second at 60/min
    with pytest.raises(RateLimited):
        limiter.check("a")


def test_principal_cache_expires() -> None:
    clock = FakeTime()
    cache = PrincipalCache(ttl_s=5, now=clock)
    principal = Principal(1, "P", PartnerKind.IHV, "t", "c")
    cache.put(("t", "c"), principal)
    assert cache.get(("t", "c")) is principal
    clock.value += 5.0
    assert cache.get(("t", "c")) is None


def test_metrics_render_counts_and_cumulative_buckets() -> None:
    metrics = Metrics(runs_by_state=lambda: {"Pending": 2})
    metrics.observe("GET", "/a", 200, 0.003)
    metrics.observe("GET", "/a", 200, 0.2)
    metrics.observe("POST", "/a", 400, 0.004)
    text = metrics.render()
    assert 'driverlens_http_requests_total{method="GET",route="/a",status="200"} 2' in text
    assert 'driverlens_http_request_duration_seconds_bucket{route="/a",le="0.005"} 2' in text
    assert 'driverlens_http_request_duration_seconds_bucket{route="/a",le="+Inf"} 3' in text
    assert 'driverlens_runs{state="Pending"} 2' in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T06:00:00Z", datetime(2026, 3, 2, 6, tzinfo=UTC)),
        ("2026-03-02T06:00:00.5z", datetime(2026, 3, 2, 6, 0, 0, 500000, tzinfo=UTC)),
        ("2026-03-02T08:00:00+02:00", datetime(2026, 3, 2, 6, tzinfo=UTC)),
        ("2026-03-02 06:00:00", datetime(2026, 3, 2, 6, tzinfo=UTC)),
        ("2026-03-02", datetime(2026, 3, 2, tzinfo=UTC)),
        (" 2026-03-02T06:00:00Z ", datetime(2026, 3, 2, 6, tzinfo=UTC)),
        ("03/02/2026", None),
        ("2026-02-30T00:00:00Z", None),
        ("", None),
        ("1900-01-01T00:00:00Z", None),
    ],
)
def test_parse_utc(text: str, expected: datetime | None) -> None:
    assert parse_utc(text) == expected


def test_iso_and_day() -> None:
    assert iso_utc(datetime(2026, 3, 2, 6, 0, 0, 999, tzinfo=UTC)) == "2026-03-02T06:00:00Z"
    assert parse_day("2026-03-02") is not None
    assert parse_day("2026-3-2") is None
    assert parse_day("9999-12-31") is None  # the day after would overflow


def _schedule(**fields: Any) -> dict[str, Any]:
    return {"startTime": "2026-03-02T06:00:00Z", "recurrenceInterval": 24, "recurrence": 3, **fields}


def test_schedule_keys_any_case_aliases_and_callback_places() -> None:
    body = {"TEMPLATEID": "7", "Schedule": {**_schedule(), "CallbackURL": "https://example.com/cb"}}
    given, problems = read_report_body(body, now=NOW, creating=True)
    assert problems == []
    assert (given.template_id, given.interval_hours, given.recurrence) == (7, 24, 3)
    assert given.callback_url == "https://example.com/cb"
    alias: dict[str, Any] = {
        "templateId": 1,
        "schedule": {**_schedule(recurrence=None), "RecurrenceCount": 4},
    }
    del alias["schedule"]["recurrence"]
    assert read_report_body(alias, now=NOW, creating=True)[0].recurrence == 4


def test_schedule_problems_are_all_listed() -> None:
    body: dict[str, Any] = {
        "templateId": True,
        "schedule": _schedule(recurrenceInterval=11.5, recurrence="many", startTime="2020-01-01T00:00:00Z"),
        "callbackUrl": "https://example.com/a",
        "createdDatetime": "x",
    }
    body["schedule"]["callbackUrl"] = "https://example.com/b"
    _, problems = read_report_body(body, now=NOW, creating=True)
    paths = {p.path for p in problems}
    assert paths == {
        "templateId",
        "schedule.recurrenceInterval",
        "schedule.recurrence",
        "schedule.startTime",
        "callbackUrl",
        "createdDatetime",
    }


def test_edit_body_may_change_one_thing_or_clear_the_callback() -> None:
    given, problems = read_report_body({"callbackUrl": None}, now=NOW, creating=False)
    assert problems == [] and given.callback_url is None
    given, problems = read_report_body({"schedule": {"recurrence": 9}}, now=NOW, creating=False)
    assert problems == [] and given.recurrence == 9 and given.callback_url is UNSET
    _, problems = read_report_body({}, now=NOW, creating=False)
    assert [p.path for p in problems] == ["body"]
    start = (NOW + timedelta(days=10 * 366)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _, problems = read_report_body({"schedule": {"startTime": start}}, now=NOW, creating=False)
    assert [p.path for p in problems] == ["schedule.startTime"]
