"""Prometheus text exposition of request counts, latencies and runs by state (no client library)."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from driverlens.observability import ProcessMetrics

LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """Counters and a latency histogram, updated by the request middleware.

    ``process`` holds the rest of this process's figures (its in-process worker's runs and callbacks,
    the run queue), rendered after the HTTP ones.
    """

    def __init__(
        self,
        runs_by_state: Callable[[], Mapping[str, int]] | None = None,
        process: ProcessMetrics | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._latency: dict[str, list[int]] = {}
        self._latency_sum: dict[str, float] = {}
        self._latency_count: dict[str, int] = {}
        self.runs_by_state = runs_by_state
        self.process = process

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, route, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            buckets = self._latency.get(route)
            if buckets is None:
                buckets = self._latency[route] = [0] * (len(LATENCY_BUCKETS) + 1)
            buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
            self._latency_sum[route] = self._latency_sum.get(route, 0.0) + seconds
            self._latency_count[route] = self._latency_count.get(route, 0) + 1

    def render(self) -> str:
        """The current figures in Prometheus text format 0.0.4."""
        lines = [
            "# HELP driverlens_http_requests_total HTTP requests by method, route and status.",
            "# TYPE driverlens_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), count in sorted(self._requests.items()):
                lines.append(
                    f'driverlens_http_requests_total{{method="{_label(method)}",route="{_label(route)}",'
                    f'status="{status}"}} {count}'
                )
            lines += [
                "# HELP driverlens_http_request_duration_seconds Request latency by route.",
                "# TYPE driverlens_http_request_duration_seconds histogram",
            ]
            for route, buckets in sorted(self._latency.items()):
                cumulative = 0
                name = _label(route)
                for bound, count in zip((*LATENCY_BUCKETS, float("inf")), buckets, strict=True):
                    cumulative += count
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    lines.append(
                        f'driverlens_http_request_duration_seconds_bucket{{route="{name}",le="{le}"}} '
                        f"{cumulative}"
                    )
                lines.append(
                    f'driverlens_http_request_duration_seconds_sum{{route="{name}"}} '
                    f"{self._latency_sum[route]:.6f}"
                )
                lines.append(
                    f'driverlens_http_request_duration_seconds_count{{route="{name}"}} '
                    f"{self._latency_count[route]}"
                )
        if self.runs_by_state is not None:
            lines += [
                "# HELP driverlens_runs Report runs by state.",
                "# TYPE driverlens_runs gauge",
            ]
            for state, count in sorted(self.runs_by_state().items()):
                lines.append(f'driverlens_runs{{state="{_label(state)}"}} {count}')
        text = "\n".join(lines) + "\n"
        return text + self.process.render() if self.process is not None else text
