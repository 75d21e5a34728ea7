"""bench/rates_bench.py at a small size: it builds its lake and install base and prints its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench import rates_bench


def test_the_rates_bench_runs_and_finds_the_seeded_regression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(rates_bench, "CACHE", tmp_path)
    assert rates_bench.main(["--rows", "40000", "--repetitions", "1"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("rates_bench rows=40000 ")
    figures = dict(part.split("=", 1) for part in line.split()[1:])
    assert int(figures["version_rows"]) > 0 and int(figures["day_rows"]) > int(figures["version_rows"])
    assert int(figures["regressed"]) > 0
