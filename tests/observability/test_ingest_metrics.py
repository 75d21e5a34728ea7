"""`driverlens ingest --metrics-file`: its counters add up in a textfile across runs, its summary line
prints the same figures, and a commit race it loses (to another process) is counted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driverlens.cli.main import app
from driverlens.events import EventStore
from driverlens.settings import Settings, get_settings
from tests.events.conftest import SampleFactory, sample  # noqa: F401  (fixture)
from tests.observability.capture import value

# The CLI in its own process, stopping before its commit until told to go on (a line on stdin), so that
# the test can commit another batch first: the CLI then loses the race once.
_PAUSED_CLI = """
import sys
from driverlens.events.lake import Lake
from driverlens.cli.main import app
real = Lake.commit_files
def paused(self, *args, **kwargs):
    if not getattr(Lake, "waited", False):
        Lake.waited = True
        print("staged", flush=True)
        sys.stdin.readline()
    return real(self, *args, **kwargs)
Lake.commit_files = paused
app(sys.argv[1:])
"""


def rows(text: str, outcome: str) -> float | None:
    return value(text, "driverlens_ingest_rows_total", role="ingest", outcome=outcome)


def test_counters_add_up_across_runs(
    settings: Settings,
    sample: SampleFactory,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "textfiles" / "driverlens_ingest.prom"
    first, second = sample("a.csv", rows=300, seed=1), sample("b.csv", rows=200, seed=2)
    runner = CliRunner()
    done = runner.invoke(app, ["ingest", "--no-progress", "--metrics-file", str(target), str(first)])
    assert done.exit_code == 0, done.output
    assert "loaded 300 rows, skipped 0 duplicates, rejected 0; 1 batch committed, 0 commit conflict(s)" in (
        done.output
    )
    text = target.read_text()
    assert (rows(text, "loaded"), rows(text, "duplicate")) == (300, 0)
    assert value(text, "driverlens_ingest_batches_total", result="committed") == 1
    assert value(text, "driverlens_ingest_last_success_timestamp_seconds", role="ingest") is not None

    monkeypatch.setenv("DRIVERLENS_INGEST_METRICS_FILE", str(target))  # the setting, without the flag
    get_settings.cache_clear()
    again = runner.invoke(app, ["ingest", "--no-progress", str(second)])
    assert again.exit_code == 0, again.output
    rerun = runner.invoke(app, ["ingest", "--no-progress", "--metrics-file", str(target), str(first)])
    assert "nothing committed" in rerun.output
    text = target.read_text()
    assert (rows(text, "loaded"), rows(text, "duplicate")) == (500, 300)
    assert value(text, "driverlens_ingest_batches_total", result="committed") == 2
    assert value(text, "driverlens_ingest_batches_total", result="already_committed") == 1
    assert value(text, "driverlens_ingest_commit_conflicts_total", role="ingest") == 0
    assert [p.name for p in target.parent.iterdir() if not p.name.endswith(".lock")] == [target.name]


def test_a_lost_commit_race_is_counted(settings: Settings, sample: SampleFactory, tmp_path: Path) -> None:  # noqa: F811
    target = tmp_path / "ingest.prom"
    mine, theirs = sample("mine.csv", rows=100, seed=3), sample("theirs.csv", rows=100, seed=4)
    env = {**os.environ, "DRIVERLENS_DATA_DIR": str(settings.data_dir)}
    command = [sys.executable, "-c", _PAUSED_CLI, "ingest", "--no-progress", "--metrics-file", str(target)]
    cli = subprocess.Popen(
        [*command, str(mine)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert cli.stdout is not None
    assert cli.stdout.readline().strip() == b"staged"
    assert EventStore(settings.data_dir).ingest([theirs]).loaded == 100  # commits first
    out, err = cli.communicate(b"\n", timeout=120)
    assert cli.returncode == 0, err.decode()
    assert b"loaded 100 rows" in out and b"1 commit conflict(s) retried" in out
    text = target.read_text()
    assert value(text, "driverlens_ingest_commit_conflicts_total", role="ingest") == 1
    assert rows(text, "loaded") == 100
