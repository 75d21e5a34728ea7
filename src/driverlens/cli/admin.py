"""``driverlens partners``, ``clients`` and ``keys``: the operator's side of partners and tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from driverlens.errors import DriverLensError
from driverlens.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

partners_app = typer.Typer(
    help="Hardware partners (IHVs and OEMs) and their entitlements.", no_args_is_help=True
)
clients_app = typer.Typer(help="OAuth clients of partners (client id + secret).", no_args_is_help=True)
keys_app = typer.Typer(help="The token signing keys (RS256) in the data dir.", no_args_is_help=True)


@contextmanager
def _session() -> Iterator[Session]:
    """A session on the configured metadata store (migrated first); DriverLens errors exit 1."""
    from driverlens.metadata.database import Database
    from driverlens.metadata.migrate import migrate

    url = get_settings().metadata_url
    try:
        migrate(url)
        database = Database(url)
        try:
            with database.session() as session:
                yield session
        finally:
            database.dispose()
    except DriverLensError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


def _emit(as_json: bool, data: Any, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        for line in lines:
            typer.echo(line)


def _partner_json(partner: Any, *, show_secret: bool) -> dict[str, Any]:
    from driverlens.auth import service

    return {
        "name": partner.name,
        "kind": partner.kind.value,
        "tenantId": partner.tenant_id,
        "callbackSecret": partner.callback_secret if show_secret else "whsec_…",
        "entitlements": service.entitlements_of(partner).to_json(),
        "createdAt": partner.created_at.isoformat(),
    }


@partners_app.command("add")
def partners_add(
    name: str = typer.Option(..., "--name", help="Unique partner name (events are owned by this name)."),
    kind: str = typer.Option(..., "--kind", help="IHV (driver vendor) or OEM (machine maker)."),
    tenant_id: str | None = typer.Option(None, "--tenant-id", help="Tenant GUID; generated if omitted."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Register a partner; prints its tenant id and its callback signing secret."""
    from driverlens.auth import service

    with _session() as session:
        partner = service.add_partner(session, name, kind, tenant_id)
        data = _partner_json(partner, show_secret=True)
    _emit(
        as_json,
        data,
        [
            f"added {data['kind']} partner {data['name']!r}",
            f"tenant id:       {data['tenantId']}",
            f"callback secret: {data['callbackSecret']}  (verifies callback signatures)",
            f"next: driverlens clients add --partner {name!r}",
        ],
    )


@partners_app.command("list")
def partners_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List partners."""
    from driverlens.auth import service

    with _session() as session:
        rows = [_partner_json(p, show_secret=False) for p in service.list_partners(session)]
    lines = [f"{r['name']}\t{r['kind']}\t{r['tenantId']}" for r in rows] or ["no partners yet"]
    _emit(as_json, rows, lines)


@partners_app.command("show")
def partners_show(
    name: str = typer.Argument(..., help="Partner name."),
    show_secret: bool = typer.Option(False, "--show-secret", help="Also print the callback secret."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a partner, its entitlements and its clients."""
    from driverlens.auth import service

    with _session() as session:
        partner = service.get_partner(session, name)
        data = _partner_json(partner, show_secret=show_secret)
        data["clients"] = [_client_json(c) for c in service.list_clients(session, name)]
    lines = [
        f"name:            {data['name']}",
        f"kind:            {data['kind']}",
        f"tenant id:       {data['tenantId']}",
        f"callback secret: {data['callbackSecret']}",
        *(f"{key}: {', '.join(values) or '-'}" for key, values in data["entitlements"].items()),
        f"clients:         {len(data['clients'])}",
        *(f"  {c['clientId']}  {c['status']}" for c in data["clients"]),
    ]
    _emit(as_json, data, lines)


@partners_app.command("entitlements")
def partners_entitlements(
    name: str = typer.Argument(..., help="Partner name."),
    application_id: list[str] | None = typer.Option(
        None, "--application-id", help="IHV product id (repeat; replaces the list)."
    ),
    submission_id: list[str] | None = typer.Option(
        None, "--submission-id", help="IHV driver submission id (repeat; replaces the list)."
    ),
    oem_name: list[str] | None = typer.Option(
        None, "--oem-name", help="OEM name as it appears in events (repeat; replaces the list)."
    ),
    clear: list[str] | None = typer.Option(
        None, "--clear", help="Empty a list: application-ids, submission-ids or oem-names (repeat)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a partner's entitlements, or replace the kinds given (the others stay as they are)."""
    from driverlens.auth import service

    cleared = {c.strip().lower().replace("_", "-") for c in clear or []}
    unknown = cleared - {"application-ids", "submission-ids", "oem-names"}
    if unknown:
        typer.echo(
            f"error: --clear takes application-ids, submission-ids or oem-names, not {sorted(unknown)}"
        )
        raise typer.Exit(2)

    def chosen(values: list[str] | None, key: str) -> list[str] | None:
        return [] if key in cleared else (values or None)

    with _session() as session:
        result = service.set_entitlements(
            session,
            name,
            application_ids=chosen(application_id, "application-ids"),
            submission_ids=chosen(submission_id, "submission-ids"),
            oem_names=chosen(oem_name, "oem-names"),
        )
    data = result.to_json()
    _emit(as_json, data, [f"{key}: {', '.join(values) or '-'}" for key, values in data.items()])


def _client_json(client: Any) -> dict[str, Any]:
    return {
        "clientId": client.client_id,
        "name": client.name,
        "status": "revoked" if client.revoked_at is not None else "active",
        "createdAt": client.created_at.isoformat(),
        "revokedAt": client.revoked_at.isoformat() if client.revoked_at else None,
    }


@clients_app.command("add")
def clients_add(
    partner: str = typer.Option(..., "--partner", help="Partner name."),
    name: str | None = typer.Option(None, "--name", help="A label for this client."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a client for a partner and print its id and secret (the secret is shown only this once)."""
    from driverlens.auth import service

    with _session() as session:
        client_id, secret = service.add_client(session, partner, name=name)
        tenant_id = service.get_partner(session, partner).tenant_id
    data = {"partner": partner, "tenantId": tenant_id, "clientId": client_id, "clientSecret": secret}
    _emit(
        as_json,
        data,
        [
            f"tenant id:     {tenant_id}",
            f"client id:     {client_id}",
            f"client secret: {secret}",
        ],
    )
    typer.echo(
        "warning: store the secret now; it cannot be shown again (only a hash is kept). "
        "If it is lost, add a new client and revoke this one.",
        err=True,
    )


@clients_app.command("revoke")
def clients_revoke(client_id: str = typer.Argument(..., help="Client id to revoke.")) -> None:
    """Revoke a client: its secret and every token it holds stop working at once."""
    from driverlens.auth import service

    with _session() as session:
        client = service.revoke_client(session, client_id)
        revoked_at = client.revoked_at
    typer.echo(f"revoked client {client_id} at {revoked_at.isoformat() if revoked_at else '?'}")


@clients_app.command("list")
def clients_list(
    partner: str = typer.Option(..., "--partner", help="Partner name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List a partner's clients (secrets are never shown)."""
    from driverlens.auth import service

    with _session() as session:
        rows = [_client_json(c) for c in service.list_clients(session, partner)]
    lines = [f"{r['clientId']}\t{r['status']}\t{r['name']}" for r in rows] or ["no clients yet"]
    _emit(as_json, rows, lines)


def _keyring() -> Any:
    from driverlens.auth.keys import KeyRing

    return KeyRing(get_settings().data_dir)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a new signing key; tokens signed by older keys keep verifying (running servers see it)."""
    ring = _keyring()
    ring.signing_keys()  # the first key exists before the new one, so rotation always adds one
    kid = ring.rotate()
    typer.echo(f"new signing key {kid}; older keys keep verifying until pruned")


@keys_app.command("list")
def keys_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List signing keys, newest (current) first."""
    keys = list(reversed(_keyring().signing_keys()))
    rows = [{"kid": k.kid, "created": k.created.isoformat(), "current": i == 0} for i, k in enumerate(keys)]
    _emit(
        as_json,
        rows,
        [f"{r['kid']}\t{r['created']}\t{'current' if r['current'] else 'verify-only'}" for r in rows],
    )


@keys_app.command("prune")
def keys_prune(
    older_than_seconds: int | None = typer.Option(
        None, "--older-than-seconds", help="Default: token lifetime + 5 minutes."
    ),
) -> None:
    """Delete keys retired long enough ago that no unexpired token can need them."""
    settings = get_settings()
    cutoff = older_than_seconds if older_than_seconds is not None else settings.token_lifetime_seconds + 300
    removed = _keyring().prune(older_than_s=cutoff)
    typer.echo(f"removed {len(removed)} key(s){': ' + ', '.join(removed) if removed else ''}")
