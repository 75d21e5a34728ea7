"""JSON log lines captured in a buffer, and Prometheus text read back into numbers."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from driverlens.observability.logs import configure_logging
from driverlens.observability.textfile import read_samples


@contextmanager
def json_log() -> Iterator[io.StringIO]:
    """The root logger writes JSON lines into a buffer for the block, then gets its handlers back."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    try:
        configure_logging("json", "INFO", stream=buffer)
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


def entries(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Every line parsed (a line that is not one JSON object fails the test)."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def value(text: str, name: str, **labels: str) -> float | None:
    """The sample ``name`` whose labels include ``labels``; None when absent; error when ambiguous."""
    found = [
        v
        for (n, pairs), v in read_samples(text).items()
        if n == name and labels.items() <= dict(pairs).items()
    ]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} samples"
    return found[0] if found else None
