"""The text format itself: escaping, cumulative buckets, one role label everywhere, label checks."""

from __future__ import annotations

import pytest

from driverlens.observability import Registry
from driverlens.observability.process import status_class
from driverlens.observability.textfile import read_samples


def test_render_and_read_back() -> None:
    registry = Registry({"role": "worker"})
    hits = registry.counter("demo_hits_total", "Hits.", ["path"])
    hits.inc(path='a "quoted"\\path\n')
    hits.inc(2, path="b")
    latency = registry.histogram("demo_seconds", "Latency.", [0.1, 1.0])
    for seconds in (0.05, 0.1, 0.5, 3.0):
        latency.observe(seconds)
    text = registry.render()
    assert "# TYPE demo_hits_total counter" in text and "# TYPE demo_seconds histogram" in text
    assert 'demo_hits_total{role="worker",path="a \\"quoted\\"\\\\path\\n"} 1' in text
    samples = read_samples(text)
    assert samples[("demo_hits_total", (("role", "worker"), ("path", 'a "quoted"\\path\n')))] == 1
    assert samples[("demo_hits_total", (("role", "worker"), ("path", "b")))] == 2
    buckets = [
        samples[("demo_seconds_bucket", (("role", "worker"), ("le", le)))] for le in ("0.1", "1", "+Inf")
    ]
    assert buckets == [2, 3, 4]  # cumulative; 0.1 itself falls in le="0.1"
    assert samples[("demo_seconds_count", (("role", "worker"),))] == 4
    assert samples[("demo_seconds_sum", (("role", "worker"),))] == pytest.approx(3.65)


def test_wrong_labels_and_decrements_are_refused() -> None:
    counter = Registry().counter("demo_total", "Demo.", ["kind"])
    with pytest.raises(ValueError, match="takes labels"):
        counter.inc(other="x")
    with pytest.raises(ValueError, match="only goes up"):
        counter.inc(-1, kind="x")


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, "2xx"), (204, "2xx"), (302, "3xx"), (429, "4xx"), (503, "5xx"), (None, "none")],
)
def test_status_classes(status: int | None, expected: str) -> None:
    assert status_class(status) == expected
