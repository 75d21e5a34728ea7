"""Dashboard sessions on both metadata stores: sign in, look up, expiry, revocation, sign out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from driverlens.auth import service
from driverlens.auth.web_sessions import live_session, sign_in, sign_out, token_hash
from driverlens.errors import Unauthorized, ValidationFailed
from driverlens.metadata import Partner, WebSession
from driverlens.metadata.database import Database

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def client(db: Database, make_partner: Callable[..., Partner]) -> tuple[str, str, str]:
    partner = make_partner(db)
    with db.session() as session:
        client_id, secret = service.add_client(session, partner.name, clock=None)
    return partner.name, client_id, secret


def test_sign_in_keeps_only_a_hash_and_finds_the_partner(db: Database, client: tuple[str, str, str]) -> None:
    name, client_id, secret = client
    with db.session() as session:
        opened = sign_in(session, client_id, secret, NOW, HOUR)
    with db.session() as session:
        stored = session.scalars(select(WebSession)).one()
        found = live_session(session, opened.token, NOW + timedelta(minutes=59))
    assert stored.token_hash == token_hash(opened.token) != opened.token
    assert found is not None and found.principal.partner_name == name
    assert found.csrf_token == opened.csrf_token and len(found.csrf_token) >= 32


def test_a_session_ends_at_its_expiry_and_at_sign_out(db: Database, client: tuple[str, str, str]) -> None:
    _, client_id, secret = client
    with db.session() as session:
        first = sign_in(session, client_id, secret, NOW, HOUR)
        second = sign_in(session, client_id, secret, NOW, HOUR)
    with db.session() as session:
        assert live_session(session, first.token, NOW + HOUR) is None  # expired exactly at its end
        sign_out(session, second.token)
    with db.session() as session:
        assert live_session(session, second.token, NOW) is None
        assert live_session(session, "made-up", NOW) is None


def test_expired_sessions_are_swept_at_the_next_sign_in(db: Database, client: tuple[str, str, str]) -> None:
    _, client_id, secret = client
    with db.session() as session:
        sign_in(session, client_id, secret, NOW, HOUR)
        sign_in(session, client_id, secret, NOW + 2 * HOUR, HOUR)
    with db.session() as session:
        assert len(session.scalars(select(WebSession)).all()) == 1


def test_revoking_the_client_ends_its_sessions(db: Database, client: tuple[str, str, str]) -> None:
    _, client_id, secret = client
    with db.session() as session:
        opened = sign_in(session, client_id, secret, NOW, HOUR)
        service.revoke_client(session, client_id)
    with db.session() as session:
        assert live_session(session, opened.token, NOW) is None
        with pytest.raises(Unauthorized, match="revoked"):
            sign_in(session, client_id, secret, NOW, HOUR)


@pytest.mark.parametrize(
    ("client_id", "secret", "error"),
    [("", "x", ValidationFailed), ("x" * 201, "x", ValidationFailed), ("unknown", "x", Unauthorized)],
)
def test_bad_credentials_are_refused(
    db: Database, client: tuple[str, str, str], client_id: str, secret: str, error: type[Exception]
) -> None:
    with db.session() as session, pytest.raises(error):
        sign_in(session, client_id, secret, NOW, HOUR)


def test_a_wrong_secret_is_refused(db: Database, client: tuple[str, str, str]) -> None:
    _, client_id, _ = client
    with db.session() as session, pytest.raises(Unauthorized):
        sign_in(session, client_id, "wrong", NOW, HOUR)
