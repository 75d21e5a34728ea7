"""A short-lived cache of the partner behind a client, so most bearer checks need no query."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from driverlens.auth.principal import Principal

# How long a client's partner mapping is reused before it is read again in full (revocation is checked
# on every request all the same, with one small query).
PRINCIPAL_TTL_S = 5.0


class PrincipalCache:
    """(tenant, client) -> Principal for a few seconds, so a bearer check costs no database query."""

    def __init__(self, ttl_s: float = PRINCIPAL_TTL_S, now: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._now = now
        self._entries: dict[tuple[str, str], tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._now():
            return None
        return entry[1]

    def put(self, key: tuple[str, str], principal: Principal) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (self._now() + self.ttl_s, principal)
