"""Trust of an external Azure AD tenant: its JWKS is fetched over HTTPS with httpx and cached."""

from __future__ import annotations

import base64
import binascii
import threading
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from driverlens.clock import Clock, SystemClock
from driverlens.errors import Problem, ServiceUnavailable, ValidationFailed


def _b64uint(text: str) -> int:
    padded = text + "=" * (-len(text) % 4)
    return int.from_bytes(base64.urlsafe_b64decode(padded.encode("ascii")), "big")


def rsa_key_from_jwk(jwk: Any) -> tuple[str, rsa.RSAPublicKey] | None:
    """``(kid, key)`` for an RSA signing JWK; None for anything else (other key types, encryption keys)."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
        return None
    kid, n, e = jwk.get("kid"), jwk.get("n"), jwk.get("e")
    if not (isinstance(kid, str) and kid and isinstance(n, str) and isinstance(e, str)):
        return None
    try:
        numbers = rsa.RSAPublicNumbers(e=_b64uint(e), n=_b64uint(n))
        key = numbers.public_key()
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return None
    if key.key_size < 2048:
        return None
    return kid, key


class JwksCache:
    """Public keys of a JWKS URL, fetched lazily, kept for ``ttl_s`` and re-fetched for an unknown kid.

    An unknown kid triggers at most one fetch per ``min_refresh_s``, so a stream of forged tokens cannot
    turn into a stream of outgoing requests.
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
        ttl_s: float = 3600.0,
        min_refresh_s: float = 60.0,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self._client = client
        self._clock = clock or SystemClock()
        self._ttl_s = ttl_s
        self._min_refresh_s = min_refresh_s
        self._timeout_s = timeout_s
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> rsa.RSAPublicKey | None:
        with self._lock:
            now = self._clock.now().timestamp()
            age = None if self._fetched_at is None else now - self._fetched_at
            stale = age is None or age > self._ttl_s
            if stale or (kid not in self._keys and age is not None and age >= self._min_refresh_s):
                self._fetch(now)
            return self._keys.get(kid)

    def _fetch(self, now: float) -> None:
        try:
            if self._client is not None:
                response = self._client.get(self.url, timeout=self._timeout_s)
            else:
                with httpx.Client(timeout=self._timeout_s, follow_redirects=False) as client:
                    response = client.get(self.url)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            if self._keys:  # keep serving the keys we have; try again after min_refresh_s
                self._fetched_at = now - self._ttl_s + self._min_refresh_s
                return
            raise ServiceUnavailable(f"cannot fetch the trusted issuer's signing keys: {exc}") from exc
        keys: dict[str, rsa.RSAPublicKey] = {}
        entries = document.get("keys") if isinstance(document, dict) else None
        for jwk in entries if isinstance(entries, list) else []:
            parsed = rsa_key_from_jwk(jwk)
            if parsed is not None:
                keys[parsed[0]] = parsed[1]
        self._keys, self._fetched_at = keys, now
        self.fetches += 1


@dataclass(frozen=True)
class AzureAdTrust:
    """An external Azure AD tenant whose tokens are accepted: issuer, audience and its key source."""

    issuer: str
    audience: str
    jwks: JwksCache

    @classmethod
    def from_settings(
        cls,
        issuer: str,
        audience: str,
        jwks_url: str,
        *,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
    ) -> AzureAdTrust | None:
        """The trust configured by the ``azure_ad_*`` settings, or None when none of them is set."""
        values = {"azure_ad_issuer": issuer, "azure_ad_audience": audience, "azure_ad_jwks_url": jwks_url}
        if not any(values.values()):
            return None
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise ValidationFailed(
                [
                    Problem(path=f"DRIVERLENS_{name.upper()}", message="must be set when trusting Azure AD")
                    for name in missing
                ]
            )
        return cls(issuer=issuer, audience=audience, jwks=JwksCache(jwks_url, client=client, clock=clock))
