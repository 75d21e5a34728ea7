"""Failure rates in the SDK (``failure_rate_template``) and the CLI (``client templates rates``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driverlens.client import failure_rate_template
from driverlens.templates import parse_template
from tests.api.server import Server
from tests.client.conftest import IHV, ClientFactory
from tests.client.test_cli import Cli, env_config, ok


def test_the_builder_spells_valid_templates() -> None:
    body = failure_rate_template(drivers=["cgfx.sys"], only_regressed=True, limit=10)
    template = parse_template(body)
    assert template.rate is not None and template.rate.compare_versions
    assert template.output_columns[-1] == "Regressed"
    per_day = parse_template(failure_rate_template(by=["FailureDate", "OSVersion"], period="Last7Days"))
    assert per_day.rate is not None and not per_day.rate.compare_versions


def test_the_builder_refuses_what_the_server_would() -> None:
    with pytest.raises(ValueError, match="Market"):
        failure_rate_template(by=["Market"])
    with pytest.raises(ValueError, match="compare_versions"):
        failure_rate_template(by=["DriverName"], only_regressed=True)


def test_the_sdk_creates_and_previews_a_rate_template(make_client: ClientFactory) -> None:
    client = make_client(IHV)
    body = failure_rate_template(by=["DriverName", "DriverVersion"])
    template_id = client.create_template(body)
    shown = client.get_template(template_id).template
    assert shown["aggregation"] == {"aggregatedColumns": ["FAILURERATE(DeviceId)"], "compareVersions": True}
    preview = client.preview_template(body)
    assert preview.columns[:5] == [
        "DriverName",
        "DriverVersion",
        "FailingDeviceDays",
        "InstalledDeviceDays",
        "FailureRate",
    ]
    assert preview.rows and preview.columns[-1] == "Regressed"


def test_the_cli_prints_creates_and_previews_rate_templates(live_server: Server, tmp_path: Path) -> None:
    cli = Cli(tmp_path / "cfg" / "client.json", {})
    env = env_config(live_server, live_server.partners[IHV])
    printed, created, previewed, refused = cli.run_all(
        [
            ["templates", "rates", "--by", "DriverName", "--by", "OSVersion", "--json"],
            ["templates", "rates", "--driver", "cgfx.sys", "--create", "--json"],
            ["templates", "rates", "--preview", "--json", "--limit", "3"],
            ["templates", "rates", "--by", "Market"],
        ],
        env=env,
    )
    body = json.loads(ok(printed).stdout)
    assert body["projection"] == ["DriverName", "OSVersion"] and "compareVersions" not in body["aggregation"]
    assert json.loads(ok(created).stdout)["templateId"] > 0
    rows = json.loads(ok(previewed).stdout)
    assert rows["columns"][-1] == "Regressed" and len(rows["rows"]) <= 3
    assert refused.returncode == 2 and "cannot group failure rates by Market" in refused.stderr
