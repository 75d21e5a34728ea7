"""The dispatcher over a real metadata store: retries after 500 and 429, Retry-After, exhaustion, log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from driverlens.callbacks.dispatcher import CALLBACK_POLICY, Dispatcher, delivery_log
from driverlens.callbacks.ssrf import CallbackGuard, parse_allowed_networks
from driverlens.clock import FrozenClock
from driverlens.metadata.database import Database
from driverlens.metadata.models import (
    CallbackDelivery,
    DeliveryState,
    Partner,
    Report,
    Run,
    RunState,
    Template,
)
from driverlens.retry import CALLBACK_RETRY, RetryPolicy

from .conftest import Receiver, Reply

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest("v1," + mac, headers["webhook-signature"])


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def ended_run(db: Database, make_partner: Callable[..., Partner]) -> Callable[[str], tuple[Run, Partner]]:
    partner = make_partner(db)

    def build(url: str) -> tuple[Run, Partner]:
        with db.session() as s:
            template = Template(partner_id=partner.id, current_version=1, created_at=T0, modified_at=T0)
            s.add(template)
            s.flush()
            report = Report(
                partner_id=partner.id,
                template_id=template.id,
                start_time=T0,
                interval_hours=24,
                recurrence=3,
                callback_url=url,
                created_at=T0,
                modified_at=T0,
            )
            s.add(report)
            s.flush()
            run = Run(
                report_id=report.id,
                run_index=0,
                due_at=T0,
                window_start=date(2026, 3, 1),
                window_end=date(2026, 3, 2),
                state=RunState.COMPLETED,
                next_attempt_at=T0,
                row_count=42,
                template_version=1,
                created_at=T0,
            )
            s.add(run)
            s.flush()
            return run, partner

    return build


def make_dispatcher(
    clock: FrozenClock,
    policy: RetryPolicy = CALLBACK_POLICY,
    allowed: str = "127.0.0.0/8",
    guard: CallbackGuard | None = None,
) -> Dispatcher:
    return Dispatcher(
        guard or CallbackGuard(parse_allowed_networks(allowed)),
        public_base_url="https://dl.example/",
        clock=clock,
        policy=policy,
        rng=random.Random(0),
        timeout_s=2,
    )


def delivery_of(db: Database, run: Run) -> CallbackDelivery:
    with db.session() as s:
        return s.query(CallbackDelivery).filter_by(run_id=run.id).one()


def test_retries_after_500_and_429_then_delivered(
    db: Database, receiver: Receiver, clock: FrozenClock, ended_run: Callable[[str], tuple[Run, Partner]]
) -> None:
    run, partner = ended_run(receiver.url)
    dispatcher = make_dispatcher(clock)
    with db.session() as s:
        first = dispatcher.enqueue(s, run, receiver.url, partner.callback_secret)
        again = dispatcher.enqueue(s, run, receiver.url)
        assert again.id == first.id
    receiver.replies += [Reply(500), Reply(429, {"Retry-After": "600"}), Reply(200)]

    assert dispatcher.dispatch_due(db) == 1
    d = delivery_of(db, run)
    assert d.state == DeliveryState.PENDING and d.attempts == 1 and d.last_status_code == 500
    assert d.next_attempt_at is not None
    first_delay = (d.next_attempt_at - T0).total_seconds()
    assert 13.5 <= first_delay <= 15
    assert dispatcher.dispatch_due(db) == 0  # not due yet

    clock.advance(timedelta(seconds=first_delay))
    assert dispatcher.dispatch_due(db) == 1
    d = delivery_of(db, run)
    assert d.last_status_code == 429 and d.next_attempt_at == clock.now() + timedelta(seconds=600)
    clock.advance(timedelta(seconds=599))
    assert dispatcher.dispatch_due(db) == 0  # Retry-After honoured
    clock.advance(timedelta(seconds=1))
    assert dispatcher.dispatch_due(db) == 1
    d = delivery_of(db, run)
    assert d.state == DeliveryState.DELIVERED and d.attempts == 3 and d.next_attempt_at is None
    clock.advance(timedelta(days=2))
    assert dispatcher.dispatch_due(db) == 0

    assert len(receiver.received) == 3
    ids = {r.headers["webhook-id"] for r in receiver.received}
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.received]
    assert len(ids) == 1 and len(set(stamps)) == 3 and stamps == sorted(stamps)
    assert all(verify(partner.callback_secret, r.headers, r.body) for r in receiver.received)
    assert len({r.body for r in receiver.received}) == 1
    notice = json.loads(receiver.received[0].body)
    assert notice == {
        "reportId": run.report_id,
        "ReportDatetime": "2026-03-02T06:00:00Z",
        "ReportStatus": "Completed",
        "rowCount": 42,
        "reportDataUrl": f"https://dl.example/analytics/driver/reportdata/{run.report_id}"
        "?startDate=2026-03-02&endDate=2026-03-02",
    }
    with db.session() as s:
        log = delivery_log(s, run.id)
    assert [(a.attempt, a.status_code) for a in log] == [(1, 500), (2, 429), (3, 200)]
    assert log[0].error == "HTTP 500" and log[2].error is None
    assert log[0].attempted_at == T0


def test_exhausted_delivery_fails(
    db: Database, receiver: Receiver, clock: FrozenClock, ended_run: Callable[[str], tuple[Run, Partner]]
) -> None:
    run, _ = ended_run(receiver.url)
    policy = RetryPolicy(max_attempts=3, base_delay_s=1, max_delay_s=1, jitter=0)
    dispatcher = make_dispatcher(clock, policy)
    with db.session() as s:
        dispatcher.enqueue(s, run, receiver.url)
    receiver.replies += [Reply(500)] * 5
    for _ in range(3):
        assert dispatcher.dispatch_due(db) == 1
        clock.advance(timedelta(seconds=1))
    d = delivery_of(db, run)
    assert d.state == DeliveryState.FAILED and d.attempts == 3
    clock.advance(timedelta(hours=1))
    assert dispatcher.dispatch_due(db) == 0
    assert len(receiver.received) == 3


def test_guard_rechecked_at_send_time(
    db: Database, receiver: Receiver, clock: FrozenClock, ended_run: Callable[[str], tuple[Run, Partner]]
) -> None:
    run, _ = ended_run(receiver.url)
    dispatcher = make_dispatcher(clock, allowed="")  # loopback no longer allowed when sending
    with db.session() as s:
        dispatcher.enqueue(s, run, receiver.url)
    assert dispatcher.dispatch_due(db) == 1
    assert receiver.received == []
    with db.session() as s:
        (attempt,) = delivery_log(s, run.id)
    assert attempt.status_code is None and attempt.error is not None
    assert "refused by the callback address guard" in attempt.error and "loopback" in attempt.error
    # Issue 10.8: a refused address is permanent; the delivery fails now instead of being retried.
    d = delivery_of(db, run)
    assert d.state == DeliveryState.FAILED and d.attempts == 1 and d.next_attempt_at is None
    clock.advance(timedelta(days=1))
    assert dispatcher.dispatch_due(db) == 0


def test_guard_refusal_broken_variant_retries(
    db: Database, receiver: Receiver, clock: FrozenClock, ended_run: Callable[[str], tuple[Run, Partner]]
) -> None:
    """With the old unclassified policy the same refusal is retried: the check above can fail."""
    run, _ = ended_run(receiver.url)
    dispatcher = make_dispatcher(clock, policy=CALLBACK_RETRY, allowed="")
    with db.session() as s:
        dispatcher.enqueue(s, run, receiver.url)
    assert dispatcher.dispatch_due(db) == 1
    assert delivery_of(db, run).state == DeliveryState.PENDING


def test_a_host_that_does_not_resolve_yet_is_retried_then_delivered(
    db: Database, receiver: Receiver, clock: FrozenClock, ended_run: Callable[[str], tuple[Run, Partner]]
) -> None:
    """Issue 10.13: names are resolved at each delivery; a name that is not live yet is transient."""
    port = int(receiver.url.split(":")[2].split("/")[0])
    url = f"http://hooks.partner.example:{port}/hook"
    live: list[bool] = [False]

    def resolver(host: str, _port: int) -> list[str]:
        if not live[0]:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return ["127.0.0.1"]

    run, _ = ended_run(url)
    guard = CallbackGuard(parse_allowed_networks("127.0.0.0/8"), resolver=resolver)
    dispatcher = make_dispatcher(clock, guard=guard)
    with db.session() as s:
        dispatcher.enqueue(s, run, url)
    assert dispatcher.dispatch_due(db) == 1
    d = delivery_of(db, run)
    assert d.state == DeliveryState.PENDING and d.attempts == 1 and "does not resolve" in (d.last_error or "")
    live[0] = True
    clock.advance(timedelta(minutes=1))
    assert dispatcher.dispatch_due(db) == 1
    assert delivery_of(db, run).state == DeliveryState.DELIVERED and len(receiver.received) == 1


def test_claimed_delivery_is_not_sent_twice(
    db: Database, receiver: Receiver, clock: FrozenClock, ended_run: Callable[[str], tuple[Run, Partner]]
) -> None:
    run, _ = ended_run(receiver.url)
    a, b = make_dispatcher(clock), make_dispatcher(clock)
    with db.session() as s:
        a.enqueue(s, run, receiver.url)
    claimed = a._claim(db, clock.now(), 10)
    assert len(claimed) == 1
    assert b.dispatch_due(db) == 0  # leased by a
    clock.advance(a.lease + timedelta(seconds=1))
    assert b.dispatch_due(db) == 1  # a's lease expired: b takes over
    assert len(receiver.received) == 1


def test_unexpected_sender_error_counts_as_an_attempt(
    db: Database, clock: FrozenClock, ended_run: Callable[[str], tuple[Run, Partner]]
) -> None:
    run, _ = ended_run("http://127.0.0.1:9/")

    def broken_sender(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    dispatcher = Dispatcher(
        CallbackGuard(parse_allowed_networks("127.0.0.0/8")),
        public_base_url="https://dl.example",
        clock=clock,
        policy=RetryPolicy(max_attempts=2, base_delay_s=1, max_delay_s=1, jitter=0),
        sender=broken_sender,  # type: ignore[arg-type]
    )
    with db.session() as s:
        dispatcher.enqueue(s, run, "http://127.0.0.1:9/")
    assert dispatcher.dispatch_due(db) == 1
    clock.advance(timedelta(seconds=1))
    assert dispatcher.dispatch_due(db) == 1
    d = delivery_of(db, run)
    assert d.state == DeliveryState.FAILED and d.attempts == 2
    assert d.last_error == "internal error while sending (RuntimeError)"
