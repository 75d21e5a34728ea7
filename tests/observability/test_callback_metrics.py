"""Callback counters and latency move as real deliveries to a local receiver succeed, retry and give up."""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Callable
from datetime import timedelta

import pytest

from driverlens.callbacks.dispatcher import Dispatcher
from driverlens.callbacks.ssrf import CallbackGuard, parse_allowed_networks
from driverlens.clock import FrozenClock
from driverlens.metadata.database import Database
from driverlens.metadata.models import Partner, Run
from driverlens.observability import ProcessMetrics
from driverlens.retry import RetryPolicy
from tests.callbacks.conftest import Receiver, Reply
from tests.callbacks.test_dispatcher import T0
from tests.observability.capture import json_log, value

EndedRun = Callable[[str], tuple[Run, Partner]]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


def dispatcher(clock: FrozenClock, metrics: ProcessMetrics, max_attempts: int = 3) -> Dispatcher:
    return Dispatcher(
        CallbackGuard(parse_allowed_networks("127.0.0.0/8")),
        public_base_url="https://dl.example/",
        clock=clock,
        policy=RetryPolicy(max_attempts=max_attempts, base_delay_s=1, max_delay_s=1, jitter=0),
        rng=random.Random(0),
        timeout_s=2,
        metrics=metrics,
    )


def outcome(metrics: ProcessMetrics, name: str, status_class: str) -> float | None:
    return value(
        metrics.render(),
        "driverlens_callback_outcomes_total",
        role="api",
        outcome=name,
        status_class=status_class,
    )


def test_retry_then_delivered(
    db: Database, receiver: Receiver, clock: FrozenClock, ended_run: EndedRun
) -> None:
    run, partner = ended_run(receiver.url)
    metrics = ProcessMetrics("api")
    sender = dispatcher(clock, metrics)
    with db.session() as s:
        sender.enqueue(s, run, receiver.url, partner.callback_secret)
    receiver.replies += [Reply(503), Reply(200, delay_s=0.3)]
    with json_log() as log:
        assert sender.dispatch_due(db) == 1
    said = [json.loads(line) for line in log.getvalue().splitlines()]
    attempts = [line for line in said if "callback delivery" in line["message"]]
    assert attempts and all((ln["runId"], ln["reportId"]) == (run.id, run.report_id) for ln in attempts)
    assert outcome(metrics, "retry", "5xx") == 1 and outcome(metrics, "delivered", "2xx") is None
    clock.advance(timedelta(seconds=2))
    assert sender.dispatch_due(db) == 1
    text = metrics.render()
    assert outcome(metrics, "delivered", "2xx") == 1
    assert value(text, "driverlens_callback_attempts_total", role="api") == 2
    assert value(text, "driverlens_callback_duration_seconds_count", role="api") == 2
    # The delivered attempt waited 0.3 s for its answer, so it is never in the 0.25 s bucket; the quick 503
    # is there unless a loaded machine stalls it (how long either takes beyond that is not asserted).
    fast = value(text, "driverlens_callback_duration_seconds_bucket", le="0.25")
    assert fast is not None and fast <= 1
    total = value(text, "driverlens_callback_duration_seconds_sum")
    assert total is not None and total >= 0.3


def test_gave_up_by_status_class(
    db: Database, receiver: Receiver, clock: FrozenClock, ended_run: EndedRun
) -> None:
    run, _ = ended_run(receiver.url)
    metrics = ProcessMetrics("api")
    sender = dispatcher(clock, metrics, max_attempts=2)
    with db.session() as s:
        sender.enqueue(s, run, receiver.url)
    receiver.replies += [Reply(404), Reply(410)]
    for _ in range(2):
        assert sender.dispatch_due(db) == 1
        clock.advance(timedelta(seconds=2))
    assert (outcome(metrics, "retry", "4xx"), outcome(metrics, "gave_up", "4xx")) == (1, 1)
    assert sender.dispatch_due(db) == 0


def test_no_answer_is_status_class_none(db: Database, clock: FrozenClock, ended_run: EndedRun) -> None:
    with socket.socket() as closed:  # a port nobody listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"
    run, _ = ended_run(url)
    metrics = ProcessMetrics("api")
    sender = dispatcher(clock, metrics)
    with db.session() as s:
        sender.enqueue(s, run, url)
    assert sender.dispatch_due(db) == 1
    assert outcome(metrics, "retry", "none") == 1
    assert value(metrics.render(), "driverlens_callback_attempts_total") == 1
