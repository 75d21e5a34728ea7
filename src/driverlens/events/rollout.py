"""Driver version rollouts of the synthetic telemetry: what the demo events and install base agree on.

Each driver ships ``VERSIONS_PER_DRIVER`` versions (``vocabulary.driver_versions``, newest first); the
oldest is everywhere when the window opens, and each newer one is released later and takes devices from
the versions before it along a logistic adoption curve. Every version fails on a fixed share of the
devices running it each day (``FAILING_SHARE``), except the versions of ``DEMO_REGRESSIONS``, which fail
``factor`` times as often as their predecessor. The event seed draws a failing row's version from
installed share x failure rate, and the install base seed counts the devices behind those shares, so
failures per installed device come out flat across versions except where a version regressed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from driverlens.events import vocabulary as voc

# Devices running a driver version that fail on a given day, at the base failure rate.
FAILING_SHARE = 0.02
# Days of the window (as fractions of it) at which versions 1..5 (oldest = 0) reach half adoption.
_RELEASES = (-0.05, 0.2, 0.45, 0.7, 0.9)
_JITTER = 0.08  # each driver's releases move by up to this fraction of the window, by its name
_RAMP = 0.05  # logistic adoption width, as a fraction of the window


@dataclass(frozen=True)
class Regression:
    """A driver version whose devices fail ``factor`` times as often as its predecessor's."""

    driver: str
    version: str
    predecessor: str
    factor: float = 3.0


DEMO_REGRESSIONS: tuple[Regression, ...] = (
    Regression("cgfx.sys", "33.0.14.1021", "33.0.13.1034"),
    Regression("fabaudio.sys", "32.0.13.1038", "32.0.12.1051"),
)


def _check_regressions() -> None:
    for r in DEMO_REGRESSIONS:
        versions = voc.driver_versions(r.driver)
        i = versions.index(r.version)
        if versions[i + 1] != r.predecessor:
            raise AssertionError(f"{r.predecessor} is not the version before {r.driver} {r.version}")


_check_regressions()


def failure_factors(driver: str) -> npt.NDArray[np.float64]:
    """Per-device failure rate of each version (``driver_versions`` order) relative to the base rate."""
    versions = voc.driver_versions(driver)
    factors = np.ones(len(versions))
    for r in DEMO_REGRESSIONS:
        if r.driver == driver:
            factors[versions.index(r.version)] = r.factor
    return factors


def installed_shares(driver: str, days: int) -> npt.NDArray[np.float64]:
    """Share of a driver's devices on each version per day: shape (days, versions), oldest day first,
    versions in ``driver_versions`` order (newest first); every row sums to 1."""
    jitter = (int.from_bytes(hashlib.sha256(driver.encode()).digest()[:4], "big") / 2**32 - 0.5) * 2
    t = np.arange(days, dtype=np.float64) + 0.5
    width = max(days * _RAMP, 0.5)
    # adoption[:, j]: share of devices that moved to version j or later (oldest j = 0 is everywhere).
    adoption = np.ones((days, len(_RELEASES) + 1))
    for j, release in enumerate(_RELEASES, start=1):
        half = (release + _JITTER * jitter) * days
        adoption[:, j] = 1.0 / (1.0 + np.exp(-(t - half) / width))
    # On version j: adopted j, and not (yet) any later version.
    not_later = np.cumprod(1.0 - adoption[:, :0:-1], axis=1)[:, ::-1]
    later = np.concatenate([not_later, np.ones((days, 1))], axis=1)
    oldest_first = adoption * later
    if oldest_first.shape[1] != voc.VERSIONS_PER_DRIVER:
        raise AssertionError("one release per version after the first")
    return oldest_first[:, ::-1] / oldest_first.sum(axis=1, keepdims=True)


def failure_mix(driver: str, days: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(probability that a failure of the driver on each day is on each version, shape (days, versions);
    failure rate per installed device each day relative to ``FAILING_SHARE``, shape (days,))."""
    weighted = installed_shares(driver, days) * failure_factors(driver)
    per_day = weighted.sum(axis=1)
    return weighted / per_day[:, None], per_day
