"""The engine benchmark runs end to end at a tiny size (so ``make bench`` cannot rot unnoticed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench import engine_bench


@pytest.mark.slow
def test_engine_bench_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "engine.json"
    assert engine_bench.main(["--rows", "20000", "--repetitions", "1", "--results", str(results)]) == 0
    printed = capsys.readouterr().out
    assert "ENGINE rows=20000 ratio[t1=" in printed
    document = json.loads(results.read_text(encoding="utf-8"))
    (size,) = document["sizes"]
    assert [t["number"] for t in size["templates"]] == [1, 2, 3, 4, 5]
    assert all(t["driverlens_s"] > 0 and t["hand_s"] > 0 and t["naive_s"] > 0 for t in size["templates"])
    assert size["templates"][0]["rows"] > 0
    assert 0 < size["peak_rss_mib_template1"] < 4096
    assert size["seed_rows_per_s"] > 0 and size["ingest_rows_per_s"] > 0
