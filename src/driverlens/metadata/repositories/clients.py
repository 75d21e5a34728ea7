"""OAuth clients of partners; the secret is hashed by the auth package before it gets here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from driverlens.errors import Conflict
from driverlens.metadata.database import Database
from driverlens.metadata.models import Client


def add_client(
    session: Session, *, partner_id: int, client_id: str, secret_hash: str, name: str, now: datetime
) -> Client:
    if session.scalars(select(Client.id).where(Client.client_id == client_id)).first() is not None:
        raise Conflict(f"client id {client_id!r} already exists", target="clientId")
    client = Client(
        partner_id=partner_id, client_id=client_id, secret_hash=secret_hash, name=name, created_at=now
    )
    session.add(client)
    session.flush()
    return client


def find_client(session: Session, client_id: str, *, include_revoked: bool = False) -> Client | None:
    """The client with this id (its partner is loaded with it); revoked clients only on request."""
    query = select(Client).where(Client.client_id == client_id)
    if not include_revoked:
        query = query.where(Client.revoked_at.is_(None))
    return session.scalars(query).one_or_none()


def list_clients(session: Session, partner_id: int, *, include_revoked: bool = True) -> list[Client]:
    query = select(Client).where(Client.partner_id == partner_id)
    if not include_revoked:
        query = query.where(Client.revoked_at.is_(None))
    return list(session.scalars(query.order_by(Client.id)))


def revoke_client(session: Session, client_id: str, *, now: datetime) -> Client | None:
    """Revoke a client (idempotent: the first revocation time is kept); None if it does not exist."""
    client = find_client(session, client_id, include_revoked=True)
    if client is None:
        return None
    if client.revoked_at is None:
        client.revoked_at = now
        session.flush()
    return client


# Built once; checked on every authenticated request so that revoking a client takes effect at once.
_LIVE_CLIENT = select(Client.id).where(
    Client.client_id == bindparam("client_id"), Client.revoked_at.is_(None)
)


def client_live(db: Database, client_id: str) -> bool:
    """True while the client exists and is not revoked (read at once, never cached; on a SQLite file or
    PostgreSQL through the raw-driver twin of the statement)."""
    fast = db.fast
    if fast is not None:
        return fast.client_live(client_id)
    with db.engine.connect() as conn:
        return conn.execute(_LIVE_CLIENT, {"client_id": client_id}).first() is not None
