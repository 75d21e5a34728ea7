"""Dashboard sessions: stored by the hash of their token, read with their client and partner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from driverlens.metadata.models import Client, WebSession


def add_session(
    session: Session, *, token_hash: str, client_pk: int, csrf_token: str, now: datetime, expires: datetime
) -> None:
    session.add(
        WebSession(
            token_hash=token_hash,
            client_pk=client_pk,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires,
        )
    )
    # Sign-ins are rare: sweeping expired rows here keeps the table small without a janitor.
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))


def find_live_session(session: Session, token_hash: str, now: datetime) -> tuple[WebSession, Client] | None:
    """The unexpired session with this token hash and its client (partner loaded), if any."""
    row = session.execute(
        select(WebSession, Client)
        .join(Client, Client.id == WebSession.client_pk)
        .where(WebSession.token_hash == token_hash, WebSession.expires_at > now)
    ).first()
    return (row[0], row[1]) if row is not None else None


def delete_session(session: Session, token_hash: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))
