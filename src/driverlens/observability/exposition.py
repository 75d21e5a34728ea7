"""Counters, histograms and scrape-time gauges rendered in Prometheus text format 0.0.4.

A few dozen lines instead of ``prometheus_client``: each process exposes only its own figures (no
multi-process mode, no push), the API already renders its HTTP metrics the same way, and a registry
object passed to whoever counts keeps the figures out of module globals (tests build their own).
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]


def escape(value: str) -> str:
    """A label value as the text format wants it (backslash, newline and double quote escaped)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def sample_line(name: str, labels: Labels, value: float) -> str:
    inner = ",".join(f'{key}="{escape(val)}"' for key, val in labels)
    return f"{name}{{{inner}}} {format_value(value)}" if inner else f"{name} {format_value(value)}"


def format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


class _Family:
    kind = ""

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str]) -> None:
        self.name, self.help, self.labelnames = name, help_text, tuple(labelnames)
        self._lock = threading.Lock()

    def _key(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {sorted(labels)}")
        return tuple(str(labels[n]) for n in self.labelnames)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def lines(self, const: Labels) -> list[str]:
        raise NotImplementedError


class Counter(_Family):
    """A monotonically increasing count per label combination."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labelnames)
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def touch(self, **labels: str) -> None:
        """Show this label combination at 0 before anything happened (so rate() sees the first step)."""
        self.inc(0.0, **labels)

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def lines(self, const: Labels) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [
            sample_line(self.name, const + tuple(zip(self.labelnames, key, strict=True)), value)
            for key, value in items
        ]


class Histogram(_Family):
    """Observations counted into cumulative ``le`` buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self, name: str, help_text: str, buckets: Sequence[float], labelnames: Sequence[str] = ()
    ) -> None:
        super().__init__(name, help_text, labelnames)
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[tuple[str, ...], list[int]] = {}
        self._sums: dict[tuple[str, ...], float] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            counts = self._counts.setdefault(key, [0] * (len(self.buckets) + 1))
            counts[bisect.bisect_left(self.buckets, value)] += 1
            self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, **labels: str) -> int:
        with self._lock:
            return sum(self._counts.get(self._key(labels), ()))

    def lines(self, const: Labels) -> list[str]:
        out: list[str] = []
        with self._lock:
            items = sorted((key, list(counts), self._sums[key]) for key, counts in self._counts.items())
        for key, counts, total in items:
            labels = const + tuple(zip(self.labelnames, key, strict=True))
            cumulative = 0
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                cumulative += count
                out.append(
                    sample_line(f"{self.name}_bucket", (*labels, ("le", format_value(bound))), cumulative)
                )
            out.append(sample_line(f"{self.name}_sum", labels, total))
            out.append(sample_line(f"{self.name}_count", labels, cumulative))
        return out


@dataclass
class GaugeFamily:
    """A gauge read at scrape time: one value per label combination (from a collector)."""

    name: str
    help: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def lines(self, const: Labels) -> list[str]:
        return [
            f"# HELP {self.name} {self.help}",
            f"# TYPE {self.name} gauge",
            *(sample_line(self.name, const + tuple(labels.items()), value) for labels, value in self.samples),
        ]


Collector = Callable[[], Iterable[GaugeFamily]]


class Registry:
    """The metrics of one process; ``const_labels`` (its role) are put on every sample."""

    def __init__(self, const_labels: Mapping[str, str] | None = None) -> None:
        self.const: Labels = tuple((const_labels or {}).items())
        self._families: list[_Family] = []
        self._collectors: list[Collector] = []

    def counter(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> Counter:
        family = Counter(name, help_text, labelnames)
        self._families.append(family)
        return family

    def histogram(
        self, name: str, help_text: str, buckets: Sequence[float], labelnames: Sequence[str] = ()
    ) -> Histogram:
        family = Histogram(name, help_text, buckets, labelnames)
        self._families.append(family)
        return family

    def collector(self, collect: Collector) -> None:
        """Add gauges computed at every scrape (a collector reports its own failures; it never raises)."""
        self._collectors.append(collect)

    def counters(self) -> list[Counter]:
        return [f for f in self._families if isinstance(f, Counter)]

    def render(self, *, collect: bool = True) -> str:
        """The current figures in text format 0.0.4."""
        lines: list[str] = []
        for family in self._families:
            lines += family.header()
            lines += family.lines(self.const)
        if collect:
            for collector in self._collectors:
                for gauge in collector():
                    lines += gauge.lines(self.const)
        return "\n".join(lines) + "\n" if lines else ""
