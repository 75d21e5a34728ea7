"""Dashboard sessions: sign in with a client id and secret, look a session up, sign out.

The cookie carries a random token; the metadata store keeps only its SHA-256, the client it belongs
to, a CSRF token and the expiry. A session ends at its expiry, at sign-out, or when its client is
revoked (checked on every look-up, as the bearer check does for tokens).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from driverlens.auth.principal import Principal
from driverlens.auth.service import authenticate_client, principal_of
from driverlens.errors import Problem, Unauthorized, ValidationFailed
from driverlens.metadata.repositories import clients as client_repo
from driverlens.metadata.repositories import web_sessions as repo

MAX_CREDENTIAL_LENGTH = 200


@dataclass(frozen=True)
class SignedIn:
    """A live session: the cookie token (only ever sent to the browser), its CSRF token and caller."""

    token: str
    csrf_token: str
    principal: Principal
    expires: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sign_in(session: Session, client_id: str, secret: str, now: datetime, lifetime: timedelta) -> SignedIn:
    """Check the credentials exactly as the token endpoint does, then open a session."""
    problems = [
        Problem(
            name,
            "is required" if not value.strip() else f"must be at most {MAX_CREDENTIAL_LENGTH} characters",
        )
        for name, value in (("client_id", client_id), ("client_secret", secret))
        if not value.strip() or len(value) > MAX_CREDENTIAL_LENGTH
    ]
    if problems:
        raise ValidationFailed(problems)
    principal = authenticate_client(session, None, client_id, secret)
    client = client_repo.find_client(session, principal.client_id)
    if client is None:  # revoked between the two reads
        raise Unauthorized("invalid_client: this client has been revoked", target="client_id")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    repo.add_session(
        session,
        token_hash=token_hash(token),
        client_pk=client.id,
        csrf_token=csrf,
        now=now,
        expires=now + lifetime,
    )
    return SignedIn(token, csrf, principal, now + lifetime)


def live_session(session: Session, token: str, now: datetime) -> SignedIn | None:
    """The session behind a cookie token, or None (unknown, expired, signed out, or client revoked)."""
    if not token or len(token) > 200:
        return None
    found = repo.find_live_session(session, token_hash(token), now)
    if found is None:
        return None
    row, client = found
    if client.revoked_at is not None:
        return None
    return SignedIn(token, row.csrf_token, principal_of(client), row.expires_at)


def sign_out(session: Session, token: str) -> None:
    if token:
        repo.delete_session(session, token_hash(token))
