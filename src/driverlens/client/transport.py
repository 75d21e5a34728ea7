"""HTTP plumbing: token acquisition and caching, retries with backoff, errors from envelopes."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from driverlens.client.errors import AuthError, NetworkError, error_from_response
from driverlens.retry import RetryPolicy, parse_retry_after

log = logging.getLogger("driverlens.client")

DEFAULT_RESOURCE = "https://manage.devcenter.microsoft.com"
#: Tokens are renewed this long before they expire.
RENEW_BEFORE_S = 300.0
#: A Retry-After longer than this is not waited for; the RateLimitedError says when to come back.
MAX_RETRY_AFTER_S = 120.0
#: Statuses retried for every method: nothing happened on the server.
RETRY_ALWAYS = frozenset({429, 503})
#: Statuses retried only for idempotent requests.
RETRY_IDEMPOTENT = frozenset({500, 502, 504})


def default_policy(retries: int) -> RetryPolicy:
    return RetryPolicy(max_attempts=retries + 1, base_delay_s=0.5, max_delay_s=30.0, jitter=0.5)


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: float
    """Epoch seconds."""


def _expiry(payload: Mapping[str, Any], now: float) -> float:
    for key in ("expires_on",):
        raw = payload.get(key)
        if raw is not None and str(raw).strip().isdigit():
            return float(str(raw).strip())
    raw = payload.get("expires_in")
    if raw is not None and str(raw).strip().isdigit():
        return now + float(str(raw).strip())
    return now + 3600.0


class Transport:
    """Sends requests with a cached bearer token, retrying what is safe to retry."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        base_url: str,
        token_url: str,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        resource: str,
        policy: RetryPolicy,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.resource = resource
        self.policy = policy
        self.now = now
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._token: Token | None = None
        self._lock = threading.Lock()
        self.token_requests = 0

    # -- tokens -------------------------------------------------------------------------------

    def token(self) -> Token:
        """The cached token, fetching a new one when absent or within ``RENEW_BEFORE_S`` of expiry."""
        with self._lock:
            current = self._token
            if current is None or self.now() >= current.expires_at - RENEW_BEFORE_S:
                current = self._token = self._fetch_token()
            return current

    def invalidate_token(self) -> None:
        with self._lock:
            self._token = None

    def _fetch_token(self) -> Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "resource": self.resource,
        }
        self.token_requests += 1
        response = self.send("POST", self.token_url, data=form, auth=False, idempotent=True)
        try:
            payload = response.json()
            access = str(payload["access_token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthError(
                f"the token endpoint {self.token_url} answered without an access_token; check the token URL",
                status=response.status_code,
            ) from exc
        return Token(access, _expiry(payload, self.now()))

    # -- requests -----------------------------------------------------------------------------

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def send(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        auth: bool = True,
        idempotent: bool | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        """One logical request: retried on 429/503 always, on other 5xx and broken connections when
        idempotent; a 401 renews the token once. Unsuccessful answers raise the mapped exception."""
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        url = self.url(path_or_url)
        headers: dict[str, str] = {"Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        renewed = False
        while True:
            attempt += 1
            if auth:
                headers["Authorization"] = f"Bearer {self.token().access_token}"
            try:
                response = self.http.request(
                    method, url, params=params, json=json, content=content, data=data, headers=headers
                )
            except httpx.TransportError as exc:
                # A failed connect sent nothing, so even a create may be retried.
                safe = idempotent or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if not safe or attempt >= self.policy.max_attempts:
                    raise NetworkError(
                        f"could not reach {url}: {exc.__class__.__name__}: {exc or 'connection failed'}; "
                        "check the base URL and that the server is running"
                    ) from exc
                delay = self.policy.delay(attempt, self.rng)
                log.info("%s %s: %s; retry %d in %.2fs", method, url, exc.__class__.__name__, attempt, delay)
                self.sleep(delay)
                continue
            status = response.status_code
            if response.is_success or status in ok_statuses:
                return response
            if status == 401 and auth and not renewed:
                # The token may have been revoked or its signing key rotated: renew it once.
                renewed = True
                attempt -= 1
                self.invalidate_token()
                continue
            retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
            retryable = status in RETRY_ALWAYS or (idempotent and status in RETRY_IDEMPOTENT)
            if retryable and attempt < self.policy.max_attempts:
                if retry_after is not None and retry_after > MAX_RETRY_AFTER_S:
                    raise error_from_response(response, retry_after)
                delay = max(self.policy.delay(attempt, self.rng), retry_after or 0.0)
                log.info("%s %s: HTTP %d; retry %d in %.2fs", method, url, status, attempt, delay)
                self.sleep(delay)
                continue
            raise error_from_response(response, retry_after)

    def envelope(self, method: str, path: str, **kwargs: Any) -> Any:
        """The ``data`` of an envelope response."""
        response = self.send(method, path, **kwargs)
        try:
            payload = response.json()
        except ValueError as exc:
            raise NetworkError(
                f"{method} {path} answered HTTP {response.status_code} with a body that is not JSON; "
                "is the base URL a DriverLens server?",
                status=response.status_code,
            ) from exc
        if isinstance(payload, dict) and "data" in payload:
            return payload["data"]
        return payload
