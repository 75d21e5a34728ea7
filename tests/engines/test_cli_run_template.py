"""``driverlens run-template`` end to end on a seeded store."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driverlens.auth.service import add_partner
from driverlens.cli.main import app
from driverlens.engines.samples import sample_template
from driverlens.events import EventStore, seed_events
from driverlens.events.demo import DEMO_PARTNERS
from driverlens.metadata.database import Database
from driverlens.metadata.migrate import migrate
from driverlens.settings import Settings, get_settings
from tests.engines.conftest import _event, store_rows

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def demo_partners(settings: Settings) -> None:
    """run-template looks partners up in the metadata store, as the server does."""
    migrate(settings.metadata_url)
    db = Database(settings.metadata_url)
    try:
        with db.session() as session:
            for partner in DEMO_PARTNERS:
                add_partner(session, partner.name, partner.kind, partner.tenant_id)
    finally:
        db.dispose()


def _template_file(tmp_path: Path, number: int) -> Path:
    body = json.dumps(sample_template(number).body, indent=2)
    path = tmp_path / f"template{number}.json"
    # Bodies copied from documentation carry comments; the CLI accepts them.
    path.write_text("// sample template\n" + body.replace("{", "{ /* c */", 1), encoding="utf-8")
    return path


def test_run_template_writes_the_report_and_prints_figures(settings: Settings, tmp_path: Path) -> None:
    seed_events(EventStore(settings.data_dir), rows=5_000, seed=3, now=NOW)
    out = tmp_path / "reports" / "t3.csv"
    result = CliRunner().invoke(
        app,
        [
            "run-template",
            str(_template_file(tmp_path, 3)),
            "--partner",
            "contoso graphics",
            "--at",
            "2026-03-01T09:00:00Z",
            "--report-id",
            "12",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Contoso Graphics" in result.output
    assert "failure dates 2026-01-30 to 2026-02-28" in result.output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    keys = ["DriverName", "DriverVersion", "FailureName", "FailureHash"]
    assert rows[0] == [*keys, "SUM(EventCount)", "DCOUNT(DeviceId)"]
    assert f"rows={len(rows) - 1} " in result.output
    assert f"sha256={hashlib.sha256(out.read_bytes()).hexdigest()}" in result.output


def test_run_template_jsonl_format(settings: Settings, tmp_path: Path) -> None:
    seed_events(EventStore(settings.data_dir), rows=2_000, seed=3, now=NOW)
    out = tmp_path / "t2.jsonl"
    args = ["run-template", str(_template_file(tmp_path, 2)), "--partner", "Northwind Systems"]
    result = CliRunner().invoke(app, [*args, "--at", "2026-03-01", "--format", "JSONL", "-o", str(out)])
    assert result.exit_code == 0, result.output
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["ReportId"] is None and "Model" in first


def _flat(output: str) -> str:
    """Output without rich's box drawing and line wrapping."""
    return " ".join(output.replace("│", " ").split())


def test_run_template_reports_problems_clearly(settings: Settings, tmp_path: Path) -> None:
    template = _template_file(tmp_path, 1)
    out = tmp_path / "x.csv"
    runner = CliRunner()

    unknown = runner.invoke(app, ["run-template", str(template), "--partner", "Nobody", "-o", str(out)])
    assert unknown.exit_code == 2 and "known partners: Contoso Graphics" in _flat(unknown.output)

    wrong_view = runner.invoke(
        app, ["run-template", str(template), "--partner", "Northwind Systems", "-o", str(out)]
    )
    assert wrong_view.exit_code == 1 and "OEMDriver templates" in _flat(wrong_view.output)

    bad = tmp_path / "bad.json"
    bad.write_text('{"view": "IHVDriver", "projection": ["Nope"]}', encoding="utf-8")
    invalid = runner.invoke(app, ["run-template", str(bad), "--partner", "Contoso Graphics", "-o", str(out)])
    assert invalid.exit_code == 1 and "Nope" in invalid.output and "dateRange" in invalid.output

    bad_format = runner.invoke(
        app,
        ["run-template", str(template), "--partner", "Contoso Graphics", "--format", "xls", "-o", str(out)],
    )
    assert (
        bad_format.exit_code == 2
        and "allowed: csv, tsv, jsonl, parquet, csv.gz, tsv.gz, jsonl.gz" in _flat(bad_format.output)
    )
    assert not out.exists()


@pytest.mark.parametrize(("raw_cells", "expected"), [(False, '\'=HYPERLINK("x")'), (True, '=HYPERLINK("x")')])
def test_run_template_neutralises_formula_cells_in_compressed_csv(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw_cells: bool, expected: str
) -> None:
    """Issue 10.9 holds for run-template too, and for csv.gz (a spreadsheet opens it once unpacked)."""
    store_rows(
        EventStore(settings.data_dir), [_event(FailureName='=HYPERLINK("x")', FailureDate=date(2026, 2, 27))]
    )
    if raw_cells:
        monkeypatch.setenv("DRIVERLENS_RAW_CSV_CELLS", "1")
        get_settings.cache_clear()
    out = tmp_path / "t3.csv.gz"
    args = ["run-template", str(_template_file(tmp_path, 3)), "--partner", "Contoso Graphics"]
    result = CliRunner().invoke(app, [*args, "--at", "2026-03-01", "--format", "csv.gz", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with gzip.open(out, "rt", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["FailureName"] for row in rows] == [expected]
