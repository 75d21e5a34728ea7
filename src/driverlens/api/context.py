"""Everything a request handler needs, built once per app and kept on ``app.state.ctx``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Request

from driverlens.api.metrics import Metrics
from driverlens.api.principals import PrincipalCache
from driverlens.api.ratelimit import RateLimiter
from driverlens.auth.jwks import AzureAdTrust
from driverlens.auth.keys import KeyRing
from driverlens.auth.tokens import TokenIssuer, TokenVerifier, own_issuer
from driverlens.blobs.backend import blob_backend_from_settings
from driverlens.blobs.download import DownloadLinks
from driverlens.blobs.links import LinkSigner
from driverlens.blobs.store import BlobStore
from driverlens.callbacks.ssrf import CallbackGuard
from driverlens.clock import Clock
from driverlens.engines import DuckDBEngine
from driverlens.events import EventStore, event_store
from driverlens.metadata.database import Database
from driverlens.observability import ProcessMetrics
from driverlens.settings import Settings

T = TypeVar("T")


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
    # Download links to ``blobs`` (signed /files links or Azure SAS URLs); ``signer`` serves /files.
    links: DownloadLinks
    signer: LinkSigner
    keyring: KeyRing
    issuer: TokenIssuer
    verifier: TokenVerifier
    callback_guard: CallbackGuard
    principals: PrincipalCache

    def now(self) -> datetime:
        return self.clock.now()

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a short metadata read (``Database.read`` decides where)."""
        return await self.db.read(fn, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a metadata write on the database's one writer thread."""
        return await self.db.write(fn, *args)

    def close(self) -> None:
        self.db.dispose()

    def link(self, key: str, filename: str | None = None, sha256: str | None = None) -> str:
        """A fresh absolute download link for a blob, from the configured store's link adapter."""
        return self.links.url(key, filename, sha256)


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
    events = event_store(settings)
    db = database or Database(settings.metadata_url)
    backend = blob_backend_from_settings(settings, clock)
    return ApiContext(
        settings=settings,
        clock=clock,
        metrics=Metrics(process=ProcessMetrics("api")),
        limiter=RateLimiter(settings.rate_limit_per_minute),
        db=db,
        events=events,
        engine=DuckDBEngine(events),
        blobs=backend.store,
        links=backend.links,
        signer=backend.signer,
        keyring=keyring,
        issuer=TokenIssuer(
            keyring, issuer_name, settings.token_audience, settings.token_lifetime_seconds, clock
        ),
        verifier=TokenVerifier(keyring, issuer_name, settings.token_audience, clock, external=external),
        callback_guard=callback_guard or CallbackGuard.from_setting(settings.callback_allowed_networks),
        principals=PrincipalCache(),
    )


async def get_context(request: Request) -> ApiContext:
    """The app's context (async: a sync dependency would cost a thread hop per request)."""
    ctx: ApiContext = request.app.state.ctx
    return ctx
