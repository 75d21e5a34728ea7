"""Run every benchmark in turn."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS: list[str] = [
    "engine_bench",
    "runs_bench",
    "api_bench",
    "api_scale_bench",
    "cabs_bench",
    "delta_bench",
    "rates_bench",
    "dashboard_bench",
]


def main() -> int:
    for name in BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
