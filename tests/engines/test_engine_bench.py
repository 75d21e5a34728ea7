"""The engine benchmark runs end to end at a tiny size (so ``make bench`` cannot rot unnoticed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench import engine_bench


@pytest.mark.slow
def test_engine_bench_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "engine.json"
    argv = ["--rows", "20000", "--repetitions", "1", "--readers", "1", "--results", str(results)]
    assert engine_bench.main([*argv, "--work-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "ENGINE rows=20000 vs_old[t1=" in printed
    document = json.loads(results.read_text(encoding="utf-8"))
    (size,) = document["sizes"]
    templates = size["templates"]
    assert [t["number"] for t in templates] == [1, 2, 3, 4, 5]
    assert all(v > 0 for t in templates for v in t["median_s"].values())
    assert set(templates[0]["median_s"]) == set(engine_bench.SIDES)
    assert templates[0]["rows"] > 0  # every side returned these rows (the bench checks they agree)
    assert 0 < size["seed"]["peak_rss_mib"] < 4096 and 0 < size["export_rss_mib"] < 4096
    assert size["ingest"]["rows"] == size["ingest_concurrent"]["rows"] == 20000
    assert size["readers"][0]["runs"] > 0 and size["readers"][0]["error_count"] == 0
    assert size["store_mib"] > 0 and size["old_store_mib"] > 0 and size["naive_file_mib"] > 0
