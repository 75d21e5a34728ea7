from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driverlens.catalog import PartnerKind
from driverlens.cli.main import app
from driverlens.errors import IngestError
from driverlens.events import EventStore, seed_events
from driverlens.events.demo import DEMO_PARTNERS, credentials_entry, write_demo_credentials
from driverlens.events.lake import COPIES, Lake, WrittenFile
from driverlens.settings import Settings

from .conftest import NOW, SampleFactory, ingest_paused_before_commit


def _data_files(store: EventStore) -> set[str]:
    """Every Parquet file in the table directory, committed or not."""
    return {str(p.resolve()) for p in store.lake.root.rglob("*.parquet")}


def test_purge_deletes_events_older_than_the_retention_window(store: EventStore) -> None:
    seed_events(store, rows=10_000, days=120, seed=2, now=NOW)
    with store.reading() as con:
        row = con.execute(
            "SELECT count(*) FROM failure_events WHERE FailureDate < ?", [NOW.date() - timedelta(days=90)]
        ).fetchone()
    assert row is not None and row[0] > 0
    assert store.purge(NOW, retention_days=90) == row[0]
    assert store.count() == 10_000 - row[0]
    assert store.purge(NOW, retention_days=90) == 0
    remaining = store.count()
    assert store.purge(NOW + timedelta(days=200)) == remaining
    assert store.count() == 0


def test_a_failure_after_partial_work_leaves_the_store_unchanged(
    store: EventStore, sample: SampleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.ingest([sample("first.csv", rows=500, seed=1)])
    before = _data_files(store)
    written: list[int] = []

    def fail_at_commit(self: Lake, files: list[WrittenFile], **kwargs: object) -> int:
        written.append(sum(f.rows for f in files if f.copy == COPIES[0]))
        assert _data_files(store) > before  # both files' rows are in the table directory, uncommitted
        raise IngestError("simulated failure after rows were written")

    monkeypatch.setattr(Lake, "commit_files", fail_at_commit)
    with pytest.raises(IngestError, match="simulated"):
        store.ingest([sample("a.parquet", rows=700, seed=2), sample("b.jsonl", rows=300, seed=3)])
    assert written == [1_000]
    assert store.count() == 500
    assert _data_files(store) == before  # the written files were removed again


def test_a_later_invalid_file_rejects_the_whole_call(
    store: EventStore, sample: SampleFactory, tmp_path: Path
) -> None:
    good = sample("good.csv", rows=400, seed=1)
    bad = tmp_path / "bad.csv"
    bad.write_text(sample("b.csv", rows=5, seed=2).read_text().replace("x64", "sparc"), encoding="utf-8")
    with pytest.raises(IngestError, match="not one of"):
        store.ingest([good, bad])
    assert store.count() == 0


def test_a_crash_midway_leaves_nothing_half_loaded(store: EventStore, sample: SampleFactory) -> None:
    path = sample("big.parquet", rows=5_000, seed=4)
    store.ingest([sample("before.csv", rows=100, seed=5)])
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from driverlens.events import EventStore
        from driverlens.events.lake import Lake
        def crash(self, files, **kwargs):
            os._exit(3)  # killed with the rows written but not committed
        Lake.commit_files = crash
        EventStore(Path({str(store.data_dir)!r})).ingest([Path({str(path)!r})])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert store.count() == 100
    assert store.ingest([path]).loaded == 5_000
    assert store.count() == 5_100


def test_readers_in_several_processes_and_an_ingest_in_progress(
    store: EventStore, sample: SampleFactory
) -> None:
    seed_events(store, rows=1_000, seed=1, now=NOW)
    reader = (
        "import sys; from pathlib import Path; from driverlens.events import EventStore;"
        "s = EventStore(Path(sys.argv[1]))\n"
        "with s.reading() as c:\n"
        " sys.stdin.readline(); print(c.execute('SELECT count(*) FROM failure_events').fetchone()[0])"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", reader, str(store.data_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        for _ in range(2)
    ]
    with store.reading() as con:  # a third reader, while both others are open
        assert con.execute("SELECT count(*) FROM failure_events").fetchone() == (1_000,)
        outs = [p.communicate(b"\n", timeout=60)[0] for p in procs]
    assert [o.strip() for o in outs] == [b"1000", b"1000"]
    # While another process is in the middle of an ingest, reads neither wait nor see part of it.
    with ingest_paused_before_commit(store, sample("more.parquet", rows=300, seed=9)) as loaded:
        started = time.monotonic()
        with store.reading() as con:
            assert con.execute("SELECT count(*) FROM failure_events").fetchone() == (1_000,)
            assert con.execute("SELECT count(*) FROM failure_events_by_oem").fetchone() == (1_000,)
        assert store.count() == 1_000
        assert time.monotonic() - started < 5
    assert loaded == [300]
    assert store.count() == 1_300


def test_demo_partners_and_credentials_file(tmp_path: Path) -> None:
    kinds = [p.kind for p in DEMO_PARTNERS]
    assert kinds.count(PartnerKind.IHV) >= 2 and kinds.count(PartnerKind.OEM) >= 1
    assert len({p.tenant_id for p in DEMO_PARTNERS}) == len(DEMO_PARTNERS)
    path = write_demo_credentials(
        tmp_path / "d" / "creds.json", [credentials_entry(p) for p in DEMO_PARTNERS]
    )
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["partners"][0] == {
        "name": "Contoso Graphics",
        "kind": "IHV",
        "tenantId": DEMO_PARTNERS[0].tenant_id,
        "clientId": "",
        "clientSecret": "",
        "callbackSecret": "",
    }
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_cli_seed_ingest_and_purge(settings: Settings, sample: SampleFactory, tmp_path: Path) -> None:
    runner = CliRunner()
    seeded = runner.invoke(app, ["seed", "--demo", "--rows", "2000", "--days", "120", "--seed", "4"])
    assert seeded.exit_code == 0, seeded.output
    creds = json.loads((settings.data_dir / "demo-credentials.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in creds["partners"]] == [p.name for p in DEMO_PARTNERS]
    store = EventStore(settings.data_dir)
    assert store.count() == 2000
    bad = tmp_path / "bad.csv"
    bad.write_text(sample("s.csv", rows=3).read_text().replace("Mini", "Maxi"), encoding="utf-8")
    rejected = runner.invoke(app, ["ingest", "--no-progress", str(bad)])
    assert rejected.exit_code == 1
    assert "column CabType: not one of Kernel, Mini, Full" in rejected.output
    skipped = runner.invoke(app, ["ingest", "--no-progress", "--skip-invalid", str(bad)])
    assert skipped.exit_code == 0, skipped.output
    assert "rejects written to" in skipped.output
    assert runner.invoke(app, ["seed", "--rows", "10"]).exit_code == 2  # only --demo seeding exists
    purged = runner.invoke(app, ["purge"])
    assert purged.exit_code == 0 and "purged" in purged.output
    assert store.count() < 2000 + 3


def _unsorted_files(store: EventStore, *, other_copys_key: bool = False) -> int:
    """Data files of the current snapshot holding a row after one with a greater owner partner.

    With ``other_copys_key``, files are checked against the other copy's owner (they are not sorted by
    it: the check can fail).
    """
    snapshot = store.snapshot()
    unsorted = 0
    with store.reading() as con:
        for f in snapshot.files:
            key = next(c for c in COPIES if c != f.copy) if other_copys_key else f.copy
            row = con.execute(
                f"""SELECT count(*) FROM (
                     SELECT "{key}" AS k, lag("{key}") OVER (ORDER BY file_row_number) AS prev
                     FROM read_parquet(?, file_row_number = true)) WHERE prev > k""",
                [f.path],
            ).fetchone()
            unsorted += 1 if row and row[0] else 0
    return unsorted


def test_compact_restores_cluster_order_after_many_appends(store: EventStore, sample: SampleFactory) -> None:
    """Each append writes its own sorted files; compaction rewrites a day held in many files into one."""
    appends = 6
    for seed in range(appends):
        store.ingest([sample(f"{seed}.parquet", rows=1_000, seed=seed, days=3)], progress=seed == 0)
    before = store.snapshot()
    days = {(f.copy, f.day) for f in before.files}
    assert len(before.files) == appends * len(days)  # every append added a file to every day of both copies
    assert _unsorted_files(store) == 0  # each append's files are sorted by owner partner
    assert _unsorted_files(store, other_copys_key=True) > len(before.files) // 2
    assert store.compact() == len(days)
    after = store.snapshot()
    assert after.version > before.version
    assert sorted((f.copy, f.day) for f in after.files) == sorted(days)  # one file per day and copy
    assert _unsorted_files(store) == 0
    assert _unsorted_files(store, other_copys_key=True) == len(after.files)
    assert store.count() == appends * 1_000
    with store.reading() as con:
        assert con.execute("SELECT count(DISTINCT EventId) FROM failure_events").fetchone() == (6_000,)
        assert con.execute("SELECT count(*) FROM failure_events_by_oem").fetchone() == (6_000,)
    assert store.compact() == 0  # nothing left to compact
