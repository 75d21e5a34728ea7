"""Fixtures for the auth tests: a frozen clock, a key ring in a temp dir, an issuer and a verifier."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from driverlens.auth.keys import KeyRing
from driverlens.auth.tokens import TokenIssuer, TokenVerifier
from driverlens.clock import FrozenClock

ISSUER = "http://127.0.0.1:8000"
AUDIENCE = "https://manage.devcenter.microsoft.com"
TENANT = "6b0a9a2c-3f7e-4c1e-9a55-1f6f3b1e2d40"
CLIENT = "0f4c7c56-8b1a-4f55-a7c6-6a2b1d6e7f10"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))


@pytest.fixture
def keyring(tmp_path: Path, clock: FrozenClock) -> KeyRing:
    return KeyRing(tmp_path / "data", clock=clock)


@pytest.fixture
def issuer(keyring: KeyRing, clock: FrozenClock) -> TokenIssuer:
    return TokenIssuer(keyring, ISSUER, AUDIENCE, 3600, clock)


@pytest.fixture
def verifier(keyring: KeyRing, clock: FrozenClock) -> TokenVerifier:
    return TokenVerifier(keyring, ISSUER, AUDIENCE, clock, leeway_s=60)
