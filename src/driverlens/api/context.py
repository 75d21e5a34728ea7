"""Everything a request handler needs, built once per app and kept on ``app.state.ctx``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from driverlens.api.metrics import Metrics
from driverlens.api.ratelimit import RateLimiter
from driverlens.auth.jwks import AzureAdTrust
from driverlens.auth.keys import KeyRing
from driverlens.auth.tokens import TokenIssuer, TokenVerifier, own_issuer
from driverlens.blobs.keyring import signer_from_settings
from driverlens.blobs.links import LinkSigner
from driverlens.blobs.store import BlobStore, LocalBlobStore
from driverlens.callbacks.ssrf import CallbackGuard
from driverlens.clock import Clock
from driverlens.engines import DuckDBEngine
from driverlens.events import EventStore
from driverlens.metadata.database import Database
from driverlens.settings import Settings


@dataclass
class ApiContext:
    """The app's collaborators; handlers read them from here, never from globals."""

    settings: Settings
    clock: Clock
    metrics: Metrics
    limiter: RateLimiter
    db: Database
    events: EventStore
    engine: DuckDBEngine
    blobs: BlobStore
    signer: LinkSigner
    keyring: KeyRing
    issuer: TokenIssuer
    verifier: TokenVerifier
    callback_guard: CallbackGuard

    def now(self) -> datetime:
        return self.clock.now()

    def link(self, key: str, filename: str | None = None) -> str:
        """A fresh absolute signed download link for a blob."""
        return self.signer.sign(key, filename=filename).absolute(self.settings.public_base_url)


def build_context(
    settings: Settings,
    clock: Clock,
    *,
    database: Database | None = None,
    callback_guard: CallbackGuard | None = None,
) -> ApiContext:
    """Wire the collaborators for ``settings`` (nothing is opened until first use)."""
    keyring = KeyRing(settings.data_dir, clock)
    issuer_name = own_issuer(settings.public_base_url)
    external = AzureAdTrust.from_settings(
        settings.azure_ad_issuer, settings.azure_ad_audience, settings.azure_ad_jwks_url, clock=clock
    )
    events = EventStore(settings.data_dir)
    return ApiContext(
        settings=settings,
        clock=clock,
        metrics=Metrics(),
        limiter=RateLimiter(settings.rate_limit_per_minute),
        db=database or Database(settings.metadata_url),
        events=events,
        engine=DuckDBEngine(events),
        blobs=LocalBlobStore(settings.blobs_dir, clock),
        signer=signer_from_settings(settings, clock),
        keyring=keyring,
        issuer=TokenIssuer(
            keyring, issuer_name, settings.token_audience, settings.token_lifetime_seconds, clock
        ),
        verifier=TokenVerifier(keyring, issuer_name, settings.token_audience, clock, external=external),
        callback_guard=callback_guard or CallbackGuard.from_setting(settings.callback_allowed_networks),
    )


def get_context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx
