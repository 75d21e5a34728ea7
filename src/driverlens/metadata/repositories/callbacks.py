"""Callback deliveries and their attempts: enqueue once per run, claim due ones with a lease, record an
attempt only while the lease is still held (compare-and-set), and the partner-visible delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from driverlens.metadata.database import Database
from driverlens.metadata.models import (
    CallbackAttempt,
    CallbackDelivery,
    DeliveryState,
    Partner,
    Report,
    Run,
)


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery leased to one dispatcher, with the partner's current callback secret."""

    id: int
    webhook_id: str
    url: str
    payload: dict[str, object]
    attempts: int
    secret: str
    run_id: int = 0


def delivery_of_run(session: Session, run_id: int) -> CallbackDelivery | None:
    return session.scalars(select(CallbackDelivery).where(CallbackDelivery.run_id == run_id)).first()


def add_delivery(
    session: Session, *, run_id: int, webhook_id: str, url: str, payload: dict[str, Any], now: datetime
) -> CallbackDelivery:
    """A Pending delivery of ``payload`` to ``url``, due at once."""
    delivery = CallbackDelivery(
        run_id=run_id,
        webhook_id=webhook_id,
        url=url,
        payload=payload,
        state=DeliveryState.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def claim_due(
    db: Database, owner: str, now: datetime, lease_until: datetime, limit: int
) -> list[ClaimedDelivery]:
    """Lease up to ``limit`` due Pending deliveries whose lease is free or expired, oldest due first."""
    with db.write_session() as session:
        query = (
            select(CallbackDelivery, Partner.callback_secret)
            .join(Run, Run.id == CallbackDelivery.run_id)
            .join(Report, Report.id == Run.report_id)
            .join(Partner, Partner.id == Report.partner_id)
            .where(
                CallbackDelivery.state == DeliveryState.PENDING,
                CallbackDelivery.next_attempt_at <= now,
                or_(CallbackDelivery.lease_expires_at.is_(None), CallbackDelivery.lease_expires_at < now),
            )
            .order_by(CallbackDelivery.next_attempt_at, CallbackDelivery.id)
            .limit(limit)
            .with_for_update(of=CallbackDelivery, skip_locked=True)
        )
        out: list[ClaimedDelivery] = []
        for delivery, secret in session.execute(query).all():
            delivery.lease_owner = owner
            delivery.lease_expires_at = lease_until
            out.append(
                ClaimedDelivery(
                    delivery.id,
                    delivery.webhook_id,
                    delivery.url,
                    dict(delivery.payload or {}),
                    delivery.attempts,
                    secret,
                    delivery.run_id,
                )
            )
        return out


def record_attempt(
    db: Database,
    claimed: ClaimedDelivery,
    owner: str,
    values: dict[str, object],
    attempt: CallbackAttempt,
) -> bool:
    """Write the delivery's new ``values`` and log ``attempt``, only if ``owner`` still holds the lease
    of the attempt it claimed; False (nothing written) otherwise."""
    with db.write_session() as session:
        result = session.execute(
            update(CallbackDelivery)
            .where(
                CallbackDelivery.id == claimed.id,
                CallbackDelivery.lease_owner == owner,
                CallbackDelivery.attempts == claimed.attempts,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        session.add(attempt)
        return True


def delivery_log(session: Session, run_id: int) -> list[CallbackAttempt]:
    """Every attempt for a run's callback, oldest first (the partner-visible delivery log)."""
    query = (
        select(CallbackAttempt)
        .join(CallbackDelivery, CallbackDelivery.id == CallbackAttempt.delivery_id)
        .where(CallbackDelivery.run_id == run_id)
        .order_by(CallbackAttempt.attempt)
    )
    return list(session.scalars(query))


def deliveries_of_runs(
    session: Session, run_ids: Sequence[int]
) -> tuple[dict[int, CallbackDelivery], dict[int, list[CallbackAttempt]]]:
    """The callback delivery of each run (by run id) and the attempts of each delivery (by delivery id)."""
    deliveries = {
        d.run_id: d
        for d in session.scalars(select(CallbackDelivery).where(CallbackDelivery.run_id.in_(run_ids)))
    }
    attempts: dict[int, list[CallbackAttempt]] = {}
    if deliveries:
        delivery_ids = [d.id for d in deliveries.values()]
        for attempt in session.scalars(
            select(CallbackAttempt)
            .where(CallbackAttempt.delivery_id.in_(delivery_ids))
            .order_by(CallbackAttempt.attempt)
        ):
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return deliveries, attempts
