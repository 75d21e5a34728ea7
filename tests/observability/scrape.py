"""Reading Prometheus text back into numbers (the tests check values, not formatting)."""

from __future__ import annotations

from driverlens.observability.textfile import read_samples


def value(text: str, name: str, **labels: str) -> float | None:
    """The sample ``name`` whose labels include ``labels``; None when absent; error when ambiguous."""
    found = [
        v
        for (n, pairs), v in read_samples(text).items()
        if n == name and labels.items() <= dict(pairs).items()
    ]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} samples"
    return found[0] if found else None
