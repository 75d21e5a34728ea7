"""Callback deliveries: enqueue one per finished run, send due attempts, log each, retry with backoff.

A delivery is claimed with a short lease (compare-and-set on its row, ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) so several workers never send the same attempt twice; the
HTTP call happens outside any transaction, and its result is recorded only while the lease is held.
The ``webhook-id`` is fixed at enqueue time; each attempt signs a fresh timestamp. The URL is checked
by the SSRF guard again at every attempt because DNS answers may change after the report was saved.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from driverlens.callbacks import signing
from driverlens.callbacks.delivery import DEFAULT_TIMEOUT_S, AttemptResult, check_and_deliver, deliver_once
from driverlens.callbacks.notice import build_notice, encode_notice
from driverlens.callbacks.ssrf import CallbackGuard, UnresolvedHost
from driverlens.clock import Clock
from driverlens.errors import ValidationFailed
from driverlens.metadata.database import Database
from driverlens.metadata.models import CallbackAttempt, CallbackDelivery, DeliveryState, Run
from driverlens.metadata.repositories import callbacks as repo
from driverlens.metadata.repositories.callbacks import ClaimedDelivery as _Claimed
from driverlens.metadata.repositories.callbacks import delivery_log
from driverlens.observability import ProcessMetrics
from driverlens.observability.logs import run_context
from driverlens.retry import CALLBACK_RETRY, RetryPolicy

log = logging.getLogger("driverlens.callbacks")

#: Callbacks: CALLBACK_RETRY's schedule; a URL the SSRF guard refuses fails at once (no retry changes the
#: address it names), while a name that does not resolve now is retried (DNS may come back).
CALLBACK_POLICY = replace(CALLBACK_RETRY, permanent=(ValidationFailed,), transient=(UnresolvedHost,))

Sender = Callable[..., AttemptResult]
RETRY_AFTER_STATUSES = frozenset({429, 503})


class Dispatcher:
    """Sends due callback deliveries; safe to run in several worker processes at once."""

    def __init__(
        self,
        guard: CallbackGuard,
        *,
        public_base_url: str,
        clock: Clock,
        policy: RetryPolicy = CALLBACK_POLICY,
        rng: random.Random | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        owner: str | None = None,
        sender: Sender = deliver_once,
        metrics: ProcessMetrics | None = None,
    ) -> None:
        self.guard = guard
        self.public_base_url = public_base_url
        self.clock = clock
        self.policy = policy
        self.rng = rng or random.Random()
        self.timeout_s = timeout_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = timedelta(seconds=timeout_s * 3 + 30)
        self._send = sender
        self.metrics = metrics

    def enqueue(
        self, session: Session, run: Run, url: str, partner_secret: str | None = None
    ) -> CallbackDelivery:
        """Record the notice for an ended run (idempotent per run); it is sent by ``dispatch_due``.

        The partner's secret is read again at send time (so a rotated secret applies to retries);
        ``partner_secret``, when given, is only checked for being well formed.
        """
        if partner_secret is not None:
            signing.secret_key(partner_secret)
        existing = repo.delivery_of_run(session, run.id)
        if existing is not None:
            return existing
        now = self.clock.now()
        payload = build_notice(
            report_id=run.report_id,
            report_datetime=run.due_at,
            status=str(run.state.value),
            row_count=run.row_count,
            public_base_url=self.public_base_url,
            delta=run.delta_summary,
        )
        return repo.add_delivery(
            session, run_id=run.id, webhook_id="msg_" + uuid.uuid4().hex, url=url, payload=payload, now=now
        )

    def dispatch_due(self, db: Database, now: datetime | None = None, limit: int = 20) -> int:
        """Send every claimable due delivery once; return the number of attempts made."""
        moment = now or self.clock.now()
        claimed = self._claim(db, moment, limit)
        for item in claimed:
            report = item.payload.get("reportId")
            with run_context(item.run_id, report if isinstance(report, int) else None):
                result, attempted_at = self._attempt(item)
                self._record(db, item, result, attempted_at)
        return len(claimed)

    def _claim(self, db: Database, now: datetime, limit: int) -> list[_Claimed]:
        return repo.claim_due(db, self.owner, now, now + self.lease, limit)

    def _attempt(self, item: _Claimed) -> tuple[AttemptResult, datetime]:
        started = time.monotonic()
        result, attempted_at = self._send_one(item)
        if self.metrics is not None:
            self.metrics.callback_attempt(time.monotonic() - started)
        return result, attempted_at

    def _send_one(self, item: _Claimed) -> tuple[AttemptResult, datetime]:
        attempted_at = self.clock.now()
        body = encode_notice(item.payload)
        try:
            headers = signing.headers(item.secret, item.webhook_id, int(attempted_at.timestamp()), body)
        except ValidationFailed as exc:
            return AttemptResult(
                None, f"partner callback secret is unusable: {exc.message}", None, 0
            ), attempted_at
        try:
            result = check_and_deliver(
                self.guard,
                item.url,
                body,
                headers,
                timeout=self.timeout_s,
                now=attempted_at,
                sender=self._send,
            )
        except ValidationFailed as exc:
            message = f"refused by the callback address guard: {exc.message}"
            result = AttemptResult(None, message, None, 0, failure=exc)
        except Exception as exc:
            # Deliberately broad: whatever a partner's endpoint provokes must count as a failed attempt
            # (bounded by the retry policy), never leave the delivery leased and retried forever.
            log.exception("callback delivery %s: unexpected error while sending", item.id)
            result = AttemptResult(None, f"internal error while sending ({type(exc).__name__})", None, 0)
        return result, attempted_at

    def _record(self, db: Database, item: _Claimed, result: AttemptResult, attempted_at: datetime) -> None:
        number = item.attempts + 1
        finished = self.clock.now()
        values: dict[str, object] = {
            "attempts": number,
            "last_status_code": result.status_code,
            "last_error": result.error,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        outcome = "retry"
        if result.delivered:
            outcome = "delivered"
            values.update(state=DeliveryState.DELIVERED, next_attempt_at=None)
        elif self.policy.exhausted(number) or (
            result.failure is not None and self.policy.is_permanent(result.failure)
        ):
            # Out of attempts, or refused in a way no retry changes (an address the guard refuses).
            outcome = "gave_up"
            values.update(state=DeliveryState.FAILED, next_attempt_at=None)
        else:
            retry_after = result.retry_after_s if result.status_code in RETRY_AFTER_STATUSES else None
            delay = self.policy.next_delay(number, self.rng, retry_after)
            values["next_attempt_at"] = finished + timedelta(seconds=delay)
        attempt = CallbackAttempt(
            delivery_id=item.id,
            attempt=number,
            attempted_at=attempted_at,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
        )
        if not repo.record_attempt(db, item, self.owner, values, attempt):
            log.warning("callback delivery %s: lease lost, attempt %s not recorded", item.id, number)
            return
        log.info(
            "callback delivery %s attempt %s: status=%s error=%s",
            item.id,
            number,
            result.status_code,
            result.error,
        )
        if self.metrics is not None:
            self.metrics.callback_outcome(outcome, result.status_code)


__all__ = ["CALLBACK_POLICY", "Dispatcher", "delivery_log"]
