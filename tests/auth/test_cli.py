"""``driverlens partners|clients|keys`` through Typer's CliRunner, on the configured metadata store."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner

from driverlens.auth import service
from driverlens.auth.keys import KeyRing
from driverlens.cli.main import app
from driverlens.metadata.database import Database
from driverlens.settings import Settings, get_settings

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def cli_settings(
    request: pytest.FixtureRequest, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings whose metadata store is a fresh SQLite file or a fresh PostgreSQL schema."""
    if request.param == "postgres":
        fresh: Callable[[], str] = request.getfixturevalue("fresh_postgres_url")
        monkeypatch.setenv("DRIVERLENS_DATABASE_URL", fresh())
        get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_partner_and_client_lifecycle(cli_settings: Settings) -> None:
    out = run("partners", "add", "--name", "Contoso GPU", "--kind", "ihv")
    assert "added IHV partner 'Contoso GPU'" in out
    tenant = re.search(r"tenant id:\s+(\S+)", out)
    assert tenant is not None
    run(
        "partners",
        "add",
        "--name",
        "Fabrikam",
        "--kind",
        "OEM",
        "--tenant-id",
        "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    )
    assert "already exists" in run("partners", "add", "--name", "Fabrikam", "--kind", "OEM", code=1)
    assert "not a partner kind" in run("partners", "add", "--name", "X", "--kind", "ODM", code=1)

    listed = json.loads(run("partners", "list", "--json"))
    assert [(p["name"], p["kind"]) for p in listed] == [("Contoso GPU", "IHV"), ("Fabrikam", "OEM")]
    assert all(p["callbackSecret"] == "whsec_…" for p in listed)

    out = run(
        "partners",
        "entitlements",
        "Contoso GPU",
        "--application-id",
        "A1",
        "--application-id",
        "A2",
        "--submission-id",
        "S1",
    )
    assert "application_ids: A1, A2" in out and "submission_ids: S1" in out
    out = run("partners", "entitlements", "Contoso GPU", "--clear", "submission-ids")
    assert "application_ids: A1, A2" in out and "submission_ids: -" in out
    assert "oem_names" in run("partners", "entitlements", "Contoso GPU", "--oem-name", "Fabrikam", code=1)
    assert "oem_names: Fabrikam" in run("partners", "entitlements", "Fabrikam", "--oem-name", "Fabrikam")

    result = runner.invoke(app, ["clients", "add", "--partner", "Contoso GPU", "--json"])
    assert result.exit_code == 0, result.output
    assert "cannot be shown again" in result.stderr
    created = json.loads(result.stdout)
    assert created["tenantId"] == tenant.group(1)
    assert "no partner named 'Nobody'" in run("clients", "add", "--partner", "Nobody", code=1)

    database = Database(cli_settings.metadata_url)
    try:
        with database.session() as session:
            principal = service.authenticate_client(
                session, created["tenantId"], created["clientId"], created["clientSecret"]
            )
        assert principal.partner_name == "Contoso GPU"

        shown = json.loads(run("partners", "show", "Contoso GPU", "--json"))
        assert [c["clientId"] for c in shown["clients"]] == [created["clientId"]]
        assert created["clientSecret"] not in json.dumps(shown)
        assert "whsec_" in run("partners", "show", "Contoso GPU", "--show-secret")

        assert "revoked client" in run("clients", "revoke", created["clientId"])
        assert "revoked" in run("clients", "list", "--partner", "Contoso GPU")
        assert "no client with id" in run("clients", "revoke", "missing", code=1)
        with pytest.raises(Exception, match="revoked"), database.session() as session:
            service.authenticate_client(
                session, created["tenantId"], created["clientId"], created["clientSecret"]
            )
    finally:
        database.dispose()


def test_keys_rotate_list_prune(settings: Settings) -> None:
    ring = KeyRing(settings.data_dir)
    first, _ = ring.current()
    out = run("keys", "rotate")
    new_kid = ring.current()[0]
    assert new_kid != first and new_kid in out
    rows = json.loads(run("keys", "list", "--json"))
    assert [(r["kid"], r["current"]) for r in rows] == [(new_kid, True), (first, False)]
    assert "removed 0 key(s)" in run("keys", "prune")
    assert f"removed 1 key(s): {first}" in run("keys", "prune", "--older-than-seconds", "0")
    assert ring.public_key(first) is None


def test_keys_rotate_on_an_empty_data_dir_leaves_two_keys(settings: Settings) -> None:
    run("keys", "rotate")
    assert len(KeyRing(settings.data_dir).signing_keys()) == 2
