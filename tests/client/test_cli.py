"""``driverlens client ...`` through its console entry point, as real subprocesses against a real server."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.events_lookup import cabs_of
from tests.api.server import Creds, Server, free_port
from tests.client.conftest import IHV, OEM, ClientFactory, ihv_template, tomorrow
from tests.client.test_sdk import COMMENTED, stored_checksum

ENTRY = Path(sys.executable).parent / "driverlens"
BAD_TEMPLATE = (
    b'{"view": "IHVDriver", "projection": ["Baseboard"], "dateRange": {"reportPeriod": "Last8Days"}}'
)


@dataclass
class Cli:
    """Runs the console command with its own config file and no inherited DRIVERLENS_CLIENT_* values."""

    config: Path
    extra: dict[str, str]

    def env(self, more: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DRIVERLENS_CLIENT_")}
        env.update({"DRIVERLENS_CLIENT_CONFIG": str(self.config), "COLUMNS": "200", **self.extra})
        env.pop("FORCE_COLOR", None)
        env.update(more or {})
        return env

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(ENTRY), "client", *args],
            env=self.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.run_all([list(args)], env=env)[0]

    def run_all(
        self, commands: Sequence[Sequence[str]], env: Mapping[str, str] | None = None
    ) -> list[subprocess.CompletedProcess[str]]:
        """Independent commands run side by side (each CLI start costs a couple of seconds)."""
        started = [(list(c), self.start(*c, env=env)) for c in commands]
        done = []
        for args, process in started:
            out, err = process.communicate(timeout=120)
            done.append(subprocess.CompletedProcess(args, process.returncode, out, err))
        return done


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def login_args(server: Server, creds: Creds, secret: str | None = None) -> list[str]:
    return [
        "login",
        f"--base-url={server.base_url}",
        f"--tenant-id={creds.tenant_id}",
        f"--client-id={creds.client_id}",
        f"--client-secret={secret or creds.secret}",
    ]


def env_config(server: Server, creds: Creds) -> dict[str, str]:
    return {
        "DRIVERLENS_CLIENT_BASE_URL": server.base_url,
        "DRIVERLENS_CLIENT_TENANT_ID": creds.tenant_id,
        "DRIVERLENS_CLIENT_CLIENT_ID": creds.client_id,
        "DRIVERLENS_CLIENT_CLIENT_SECRET": creds.secret,
    }


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "cfg" / "client.json", {})


def test_login_saves_a_private_config_and_templates_use_it(
    cli: Cli, live_server: Server, tmp_path: Path
) -> None:
    creds = live_server.partners[IHV]
    result = ok(cli.run(*login_args(live_server, creds)))
    assert "logged in" in result.stdout and creds.secret not in result.stdout
    assert stat.S_IMODE(cli.config.stat().st_mode) == 0o600
    saved = json.loads(cli.config.read_text())
    assert saved == {
        "base_url": live_server.base_url,
        "tenant_id": creds.tenant_id,
        "client_id": creds.client_id,
        "client_secret": creds.secret,
    }

    template_file = tmp_path / "t.json"
    template_file.write_bytes(COMMENTED)
    created = json.loads(ok(cli.run("templates", "create", "--file", str(template_file), "--json")).stdout)
    template_id = created["templateId"]
    listed, shown = cli.run_all([["templates", "list"], ["templates", "show", str(template_id)]])
    assert (
        str(template_id) in ok(listed).stdout
        and "IHVDriver" in listed.stdout
        and "Last7Days" in listed.stdout
    )
    assert f"template {template_id}, version 1 of 1" in ok(shown).stdout and '"FailureName"' in shown.stdout

    template_file.write_text(
        '{"view": "IHVDriver", "projection": ["DriverName"], "dateRange": {"reportPeriod": "Yesterday"}}'
    )
    assert (
        f"edited template {template_id}"
        in ok(cli.run("templates", "edit", str(template_id), "-f", str(template_file))).stdout
    )
    deleted = ok(cli.run("templates", "delete", str(template_id), "--json"))
    assert json.loads(deleted.stdout) == {"templateId": template_id}


def test_reports_from_environment_variables_schedule_run_wait_download(
    cli: Cli, live_server: Server, make_client: ClientFactory, tmp_path: Path
) -> None:
    creds = live_server.partners[IHV]
    cli.extra = env_config(live_server, creds)  # no config file at all
    with make_client() as client:
        template_id = client.create_template(ihv_template())
    start = tomorrow().strftime("%Y-%m-%dT%H:%M:%SZ")
    scheduled = ok(
        cli.run(
            "reports", "schedule", "--template-id", str(template_id), "--start", start,
            "--interval", "24", "--count", "2", "--json",
        )
    )  # fmt: skip
    report_id = str(json.loads(scheduled.stdout)["reportId"])
    assert "started a run of report" in ok(cli.run("reports", "run", report_id)).stdout

    waited = ok(cli.run("reports", "wait", report_id, "--timeout", "60", "--poll", "0.2", "--json"))
    run = json.loads(waited.stdout)
    assert run["ReportStatus"] == "Completed" and run["ReportLocation"].startswith(live_server.base_url)
    assert f"report {report_id}: run due" in waited.stderr  # the progress display

    dest = tmp_path / "out" / "report.csv"
    data, history, listed, edited, paused, download = cli.run_all(
        [
            ["reports", "data", report_id],
            ["reports", "runs", report_id, "--json"],
            ["reports", "list", "--json"],
            ["reports", "edit", report_id, "--interval", "48", "--json"],
            ["reports", "pause", report_id],
            ["reports", "download", report_id, "--latest", "-o", str(dest), "--json"],
        ]
    )
    assert "Completed" in ok(data).stdout and "/files/" in data.stdout
    completed = [r for r in json.loads(ok(history).stdout) if r["ReportStatus"] == "Completed"]
    assert completed and all(r["rowCount"] is not None and len(r["sha256"]) == 64 for r in completed)
    assert int(report_id) in {r["reportId"] for r in json.loads(ok(listed).stdout)}
    assert json.loads(ok(edited).stdout) == {"reportId": int(report_id)}
    assert f"paused report {report_id}" in ok(paused).stdout
    saved = json.loads(ok(download).stdout)
    sha256, size = stored_checksum(live_server, int(report_id))
    assert (
        saved["bytes"] == size
        and saved["sha256"] == sha256 == __import__("hashlib").sha256(dest.read_bytes()).hexdigest()
    )

    shown, at_run = cli.run_all(
        [
            ["reports", "show", report_id],
            ["reports", "download", report_id, "--at", run["ReportDatetime"], "-o", str(tmp_path / "at.csv"),
             "--sha256", sha256],
        ]
    )  # fmt: skip
    assert "paused" in ok(shown).stdout and "48" in shown.stdout
    assert "checksum verified" in ok(at_run).stdout


def test_demo_credentials_login_then_an_oem_cab_with_a_progress_bar(
    cli: Cli, live_server: Server, tmp_path: Path
) -> None:
    creds = live_server.partners[OEM]
    demo = tmp_path / "demo-credentials.json"
    entry = {"name": OEM, "kind": "OEM", "tenantId": creds.tenant_id, "clientId": creds.client_id,
             "clientSecret": creds.secret}  # fmt: skip
    demo.write_text(json.dumps({"partners": [entry]}))
    result = ok(
        cli.run(
            "login",
            "--demo-credentials",
            str(demo),
            "--partner",
            OEM.lower(),
            "--base-url",
            live_server.base_url,
            "--json",
        )
    )
    assert json.loads(result.stdout)["client_secret"] == "***"
    cab = cabs_of(live_server.data_dir, "OemPartner", OEM)[0]
    dest = tmp_path / "crash.cab"
    shown = ok(
        cli.run(
            "cabs", "download", "--cab-id-hash", cab.cab_id_hash, "-o", str(dest), env={"FORCE_COLOR": "1"}
        )
    )
    size = dest.stat().st_size
    assert (
        dest.read_bytes().startswith(b"MSCF")
        and f"{size} bytes in " in shown.stdout
        and "B/s" in shown.stdout
    )
    assert f"{size}/{size} bytes" in shown.stderr and "crash.cab" in shown.stderr  # the progress bar's bytes
    assert cli.config.exists()
    ok(cli.run("logout"))
    assert not cli.config.exists()


def test_exit_codes_and_messages_say_what_to_do_next(cli: Cli, live_server: Server, tmp_path: Path) -> None:
    creds = live_server.partners[IHV]
    bad = tmp_path / "bad.json"
    bad.write_bytes(BAD_TEMPLATE)
    configured = env_config(live_server, creds)
    dead = {
        **configured,
        "DRIVERLENS_CLIENT_BASE_URL": f"http://127.0.0.1:{free_port()}",
        "DRIVERLENS_CLIENT_RETRIES": "0",
    }
    runs = [
        (["templates", "list"], {}, 2, "driverlens client login"),
        (["templates", "create", "--file", str(bad)], configured, 3, "Baseboard"),
        (login_args(live_server, creds, secret="wrong-secret"), {}, 4, "client id and secret"),
        (["reports", "show", "999999"], configured, 5, "reports list"),
        (["templates", "list"], dead, 6, "is running"),
        (["reports", "download", "1", "--latest", "--at", "now"], configured, 2, "not both"),
        (["reports", "schedule"], configured, 2, "--template-id"),
        (["templates", "create", "--file", str(tmp_path / "missing.json")], configured, 2, "cannot read"),
    ]
    started = [(expected, text, args, cli.start(*args, env=env)) for args, env, expected, text in runs]
    errors = []
    for expected, text, args, process in started:
        out, err = process.communicate(timeout=120)
        assert process.returncode == expected, f"{args}: {process.returncode}\n{out}\n{err}"
        assert text in err, f"{args}: {err}"
        errors.append(err)
    assert not cli.config.exists()  # a failed login saves nothing

    refused = errors[1].splitlines()  # every server problem listed, with the tracking id and what to do
    assert refused[0].startswith("error: the server refused the request (HTTP 400, trackingId ")
    assert sum(1 for line in refused if line.startswith("  - ")) >= 2
    assert refused[-1].startswith("next: fix what is listed above")
