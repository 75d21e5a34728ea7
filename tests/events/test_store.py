from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driverlens.catalog import PartnerKind
from driverlens.cli.main import app
from driverlens.errors import IngestError, ServiceUnavailable
from driverlens.events import EventStore, seed_events
from driverlens.events import ingest as ingest_module
from driverlens.events.demo import DEMO_PARTNERS, credentials_entry, write_demo_credentials
from driverlens.settings import Settings

from .conftest import NOW, SampleFactory, writer_in_another_process


def test_purge_deletes_events_older_than_the_retention_window(store: EventStore) -> None:
    seed_events(store, rows=10_000, days=120, seed=2, now=NOW)
    with store.connect() as con:
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
    real = ingest_module.append_clustered
    calls: list[int] = []

    def append_then_fail(con: object, source: str) -> int:
        calls.append(real(con, source))  # type: ignore[arg-type]
        if len(calls) == 2:
            raise IngestError("simulated failure after rows were written")
        return calls[-1]

    monkeypatch.setattr(ingest_module, "append_clustered", append_then_fail)
    with pytest.raises(IngestError, match="simulated"):
        store.ingest([sample("a.parquet", rows=700, seed=2), sample("b.jsonl", rows=300, seed=3)])
    assert calls == [700, 300]
    assert store.count() == 500


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
        from driverlens.events import EventStore, ingest
        real = ingest.append_clustered
        def crash(con, source):
            real(con, source)
            os._exit(3)  # killed with the rows written but not committed
        ingest.append_clustered = crash
        EventStore(Path({str(store.data_dir)!r})).ingest([Path({str(path)!r})])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert store.count() == 100
    assert store.ingest([path]).loaded == 5_000


def test_readers_in_several_processes_and_a_busy_writer(store: EventStore) -> None:
    seed_events(store, rows=1_000, seed=1, now=NOW)
    reader = (
        "import sys; from pathlib import Path; from driverlens.events import EventStore;"
        "s = EventStore(Path(sys.argv[1])); c = s.connect(); sys.stdin.readline();"
        "print(c.execute('SELECT count(*) FROM failure_events').fetchone()[0])"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", reader, str(store.data_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        for _ in range(2)
    ]
    with store.connect() as con:  # a third read-only connection, while both others are open
        assert con.execute("SELECT count(*) FROM failure_events").fetchone() == (1_000,)
        outs = [p.communicate(b"\n", timeout=60)[0] for p in procs]
    assert [o.strip() for o in outs] == [b"1000", b"1000"]
    # While another process holds the write lock, readers wait, then get a clear error.
    with (
        writer_in_another_process(store),
        pytest.raises(ServiceUnavailable, match="locked by another process"),
    ):
        store.connect()
    assert store.count() == 1_000


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


def test_compact_restores_cluster_order_after_many_appends(store: EventStore, sample: SampleFactory) -> None:
    store.ingest([sample("a.parquet", rows=3_000, seed=1, days=10)])
    store.ingest([sample("b.parquet", rows=3_000, seed=2, days=10)], progress=True)

    def out_of_order() -> int:
        with store.connect() as con:
            row = con.execute(
                """SELECT count(*) FROM (
                     SELECT (IhvPartner, FailureDate) AS k,
                            lag((IhvPartner, FailureDate)) OVER (ORDER BY rowid) AS prev
                     FROM failure_events) WHERE prev > k"""
            ).fetchone()
        return int(row[0]) if row else -1

    assert out_of_order() > 0  # two sorted batches, one after the other
    store.compact()
    assert out_of_order() == 0
    assert store.count() == 6_000
