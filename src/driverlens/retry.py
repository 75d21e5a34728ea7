"""Retry and backoff policy: one small value object shared by report runs and callback delivery."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from driverlens.clock import ensure_utc


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with bounded jitter.

    ``attempt`` counts attempts already made (1 after the first failure). The nominal delay before the
    next attempt is ``min(max_delay_s, base_delay_s * multiplier ** (attempt - 1))``; jitter then draws
    the actual delay uniformly from ``[nominal * (1 - jitter), nominal]`` (``jitter=1.0`` is "full
    jitter", ``0.0`` is none), so the schedule never exceeds the documented nominal one.
    """

    max_attempts: int
    base_delay_s: float
    max_delay_s: float
    multiplier: float = 2.0
    jitter: float = 0.1
    #: Failures that another attempt cannot fix (a template that does not compile, an address the SSRF
    #: guard refuses): never retried. ``transient`` wins over ``permanent`` for an error that is both
    #: (a subclass), and anything in neither is treated as transient, bounded by ``max_attempts``.
    permanent: tuple[type[BaseException], ...] = ()
    transient: tuple[type[BaseException], ...] = ()

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.base_delay_s < 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError("need 0 <= base_delay_s <= max_delay_s")
        if self.multiplier < 1:
            raise ValueError("multiplier must be >= 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be a fraction between 0 and 1")

    def nominal_delay(self, attempt: int) -> float:
        """The delay before attempt ``attempt + 1`` without jitter."""
        if attempt < 1:
            raise ValueError("attempt counts attempts already made and starts at 1")
        # Cap the exponent so huge attempt numbers cannot overflow a float.
        exponent = min(attempt - 1, 64)
        return float(min(self.max_delay_s, self.base_delay_s * self.multiplier**exponent))

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1``, jittered."""
        nominal = self.nominal_delay(attempt)
        return nominal * (1.0 - self.jitter * rng.random())

    def exhausted(self, attempts: int) -> bool:
        """True when ``attempts`` attempts have been made and no more are allowed."""
        return attempts >= self.max_attempts

    def is_permanent(self, error: BaseException) -> bool:
        """Whether ``error`` (or what caused it, along its ``__cause__`` chain) cannot go away by retrying."""
        chain: list[BaseException] = []
        seen: BaseException | None = error
        while seen is not None and len(chain) < 16:
            chain.append(seen)
            seen = seen.__cause__
        if any(isinstance(e, self.transient) for e in chain):
            return False
        return any(isinstance(e, self.permanent) for e in chain)

    def retries(self, error: BaseException, attempts: int) -> bool:
        """Whether to try again after ``attempts`` attempts, the last of which failed with ``error``."""
        return not self.exhausted(attempts) and not self.is_permanent(error)

    def next_delay(self, attempt: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        """The jittered delay, lengthened to honour a server's Retry-After (capped at ``max_delay_s``)."""
        delay = self.delay(attempt, rng)
        if retry_after_s is not None and retry_after_s > delay:
            delay = min(float(retry_after_s), self.max_delay_s)
        return delay

    def total_nominal_s(self) -> float:
        """Sum of nominal delays between the first and the last attempt."""
        return sum(self.nominal_delay(a) for a in range(1, self.max_attempts))


#: Report runs: transient failures are retried quickly, a handful of times (nominal 5 s, 20 s, 80 s).
RUN_RETRY = RetryPolicy(max_attempts=4, base_delay_s=5.0, max_delay_s=120.0, multiplier=4.0, jitter=0.5)

#: Callbacks: 14 attempts over about a day. Nominal delays after each failed attempt:
#: 15 s, 30 s, 1 min, 2 min, 4 min, 8 min, 16 min, 32 min, 64 min, 128 min, 256 min, 6 h, 6 h
#: (total about 20.5 h; jitter shortens each by at most 10 %; Retry-After may lengthen one to 6 h).
CALLBACK_RETRY = RetryPolicy(
    max_attempts=14, base_delay_s=15.0, max_delay_s=6 * 3600.0, multiplier=2.0, jitter=0.1
)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent/invalid."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(min(int(text), 10**9))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    seconds = (ensure_utc(when) - ensure_utc(now)).total_seconds()
    return max(0.0, seconds)
