"""``driverlens ingest-cabs`` and ``driverlens collectors`` through Typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driverlens.cabs.demo import demo_cabinet
from driverlens.cli.main import app
from driverlens.events import EventStore, seed_events
from driverlens.settings import Settings, get_settings
from tests.cabs.conftest import SEED, Event

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A data dir holding the same seeded events as ``seeded_events`` (same seed) and nothing else."""
    var = tmp_path / "var"
    seed_events(EventStore(var), **SEED)
    monkeypatch.setenv("DRIVERLENS_DATA_DIR", str(var))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_ingest_cabs_stores_links_and_refuses(
    data_dir: Settings, tmp_path: Path, events_sample: list[Event]
) -> None:
    event = events_sample[0]
    good = tmp_path / "good.cab"
    good.write_bytes(
        demo_cabinet(
            event.failure_name,
            kernel=event.kernel,
            os_version=event.os_version,
            driver=event.driver,
            driver_version=event.driver_version,
        )
    )
    bad = tmp_path / "bad.cab"
    bad.write_bytes(b"MSCF" + bytes(10))
    result = runner.invoke(app, ["ingest-cabs", str(good), str(bad), "--event-id", event.event_id, "--json"])
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    stored, refused = lines
    assert stored["created"] and stored["eventsLinked"] == 1 and stored["eventIds"] == [event.event_id]
    assert stored["bucketMismatch"] is None and stored["dump"]["osBuild"] == event.os_version.split(".")[2]
    assert refused["file"] == str(bad) and "truncated cabinet" in refused["error"]
    again = runner.invoke(app, ["ingest-cabs", str(good)])
    assert again.exit_code == 0 and "already stored as " + stored["cabIdHash"] in again.output
    blobs = [p for p in (data_dir.data_dir / "blobs").rglob("*.cab")]
    assert len(blobs) == 1 and blobs[0].read_bytes() == good.read_bytes()


def test_collector_lifecycle(data_dir: Settings) -> None:
    added = runner.invoke(app, ["collectors", "add", "--name", "wer-bridge", "--json"])
    assert added.exit_code == 0, added.output
    created = json.loads(added.stdout)
    assert created["collectorId"].startswith("collector-") and len(created["secret"]) >= 40
    listed = json.loads(runner.invoke(app, ["collectors", "list", "--json"]).stdout)
    assert [(c["collectorId"], c["status"], c["name"]) for c in listed] == [
        (created["collectorId"], "active", "wer-bridge")
    ]
    assert created["secret"] not in runner.invoke(app, ["collectors", "list", "--json"]).stdout
    assert runner.invoke(app, ["collectors", "revoke", created["collectorId"]]).exit_code == 0
    assert json.loads(runner.invoke(app, ["collectors", "list", "--json"]).stdout)[0]["status"] == "revoked"
    assert runner.invoke(app, ["collectors", "revoke", "collector-nope"]).exit_code == 1
