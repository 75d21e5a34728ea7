"""Crash-dump collectors: a credential of their own, apart from partner clients.

A collector may only upload cabinets; it reads nothing and holds no token. It authenticates each
upload with HTTP Basic (collector id and secret), checked against a scrypt hash like client secrets.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from sqlalchemy.orm import Session

from driverlens.auth.hashing import DUMMY_HASH, hash_secret, new_client_secret, verify_secret
from driverlens.clock import Clock, SystemClock
from driverlens.errors import NotFound, Unauthorized
from driverlens.metadata.models import Collector
from driverlens.metadata.repositories import collectors as collector_repo

MAX_NAME_LENGTH = 200


def add_collector(session: Session, name: str, *, clock: Clock | None = None) -> tuple[str, str]:
    """Create a collector; returns ``(collector_id, secret)``. The secret is not stored."""
    collector_id = f"collector-{uuid.uuid4()}"
    secret = new_client_secret()
    collector_repo.add_collector(
        session,
        collector_id=collector_id,
        secret_hash=hash_secret(secret),
        name=name.strip()[:MAX_NAME_LENGTH] or "collector",
        now=(clock or SystemClock()).now(),
    )
    return collector_id, secret


def revoke_collector(session: Session, collector_id: str, *, clock: Clock | None = None) -> Collector:
    collector = collector_repo.revoke_collector(
        session, collector_id.strip(), now=(clock or SystemClock()).now()
    )
    if collector is None:
        raise NotFound(f"no collector with id {collector_id!r}", target="collectorId")
    return collector


def basic_credentials(header: str | None) -> tuple[str, str]:
    """``(collector id, secret)`` from an ``Authorization: Basic`` header; 401 when absent or malformed."""
    expected = "send 'Authorization: Basic base64(<collector id>:<secret>)' (see `driverlens collectors add`)"
    if header is None or not header.strip():
        raise Unauthorized(f"missing collector credentials: {expected}", target="Authorization")
    scheme, _, encoded = header.strip().partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized(f"malformed collector credentials: {expected}", target="Authorization") from exc
    collector_id, sep, secret = decoded.partition(":")
    if scheme.lower() != "basic" or not sep or not collector_id or not secret:
        raise Unauthorized(f"malformed collector credentials: {expected}", target="Authorization")
    return collector_id, secret


def authenticate_collector(session: Session, collector_id: str, secret: str) -> str:
    """The collector id when the secret matches a live collector; an unknown id takes as long to refuse."""
    collector = collector_repo.find_collector(session, collector_id, include_revoked=True)
    valid = verify_secret(secret, collector.secret_hash if collector is not None else DUMMY_HASH)
    if collector is None or not valid:
        raise Unauthorized(
            "invalid collector credentials: check the collector id and secret", target="Authorization"
        )
    if collector.revoked_at is not None:
        raise Unauthorized("this collector has been revoked", target="Authorization")
    return collector.collector_id
