"""``driverlens client ...``: the partner SDK on the command line (tables for people, --json for scripts).

Exit codes: 0 ok, 1 other errors, 2 usage or configuration errors, 3 the server refused the input,
4 authentication or permission errors, 5 not found, 6 network errors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.json import JSON

from driverlens.cli.client_common import (
    JsonOpt,
    client_for,
    configured_client,
    done,
    fail,
    out,
    print_json,
    print_table,
    read_input,
    say,
    stamp,
    usage,
)
from driverlens.cli.client_reports import cabs_app, reports_app
from driverlens.client import DriverLensClientError, TemplateInfo, failure_rate_template
from driverlens.client.config import (
    ClientConfig,
    ConfigError,
    config_path,
    from_demo_credentials,
    save_config,
)

client_app = typer.Typer(
    help="Use a DriverLens server as a partner: templates, scheduled reports, downloads, CABs.",
    no_args_is_help=True,
)
templates_app = typer.Typer(help="Report templates.", no_args_is_help=True)
client_app.add_typer(templates_app, name="templates")
client_app.add_typer(reports_app, name="reports")
client_app.add_typer(cabs_app, name="cabs")

FileOpt = typer.Option(..., "--file", "-f", help="Template JSON (comments allowed; - for stdin).")


@client_app.command()
def login(
    base_url: str = typer.Option(None, "--base-url", envvar="DRIVERLENS_CLIENT_BASE_URL", help="API root."),
    tenant_id: str = typer.Option(None, "--tenant-id", envvar="DRIVERLENS_CLIENT_TENANT_ID"),
    client_id: str = typer.Option(None, "--client-id", envvar="DRIVERLENS_CLIENT_CLIENT_ID"),
    client_secret: str = typer.Option(None, "--client-secret", envvar="DRIVERLENS_CLIENT_CLIENT_SECRET"),
    token_url: str = typer.Option(None, "--token-url", help="Token endpoint (default: on the base URL)."),
    demo_credentials: Path = typer.Option(None, "--demo-credentials", help="A demo-credentials.json."),
    partner: str = typer.Option(None, "--partner", help="Partner name in --demo-credentials."),
    check: bool = typer.Option(True, "--check/--no-check", help="Get a token first to prove the settings."),
    as_json: bool = JsonOpt,
) -> None:
    """Save the server URL and client credentials (file mode 0600) for the other commands."""
    if demo_credentials is not None:
        if not partner:
            usage("--demo-credentials needs --partner NAME (e.g. --partner 'Contoso Graphics')")
        try:
            config = from_demo_credentials(demo_credentials, partner, base_url)
        except ConfigError as exc:
            fail(exc)
    else:
        given = (("--base-url", base_url), ("--tenant-id", tenant_id), ("--client-id", client_id))
        missing = [flag for flag, value in given if not value]
        if not client_secret and not missing and sys.stdin.isatty():
            client_secret = typer.prompt("client secret", hide_input=True)
        if not client_secret:
            missing.append("--client-secret")
        if missing:
            usage(f"missing {', '.join(missing)} (or use --demo-credentials FILE --partner NAME)")
        config = ClientConfig(base_url.rstrip("/"), tenant_id, client_id, client_secret, token_url)
    if check:
        with client_for(config) as client:
            try:
                client.access_token()
            except DriverLensClientError as exc:
                fail(exc, config.base_url)
    path = save_config(config)
    message = f"logged in to {config.base_url} as client {config.client_id}; saved to {path} (mode 0600)"
    done(as_json, {"config": str(path), **config.redacted()}, message)


@client_app.command()
def logout() -> None:
    """Forget the saved credentials."""
    path = config_path()
    path.unlink(missing_ok=True)
    say(f"removed {path}")


def _template_row(t: TemplateInfo) -> list[Any]:
    body = t.template
    period = (body.get("dateRange") or {}).get("reportPeriod", "")
    aggregates = (body.get("aggregation") or {}).get("aggregatedColumns") or []
    columns = ", ".join([*body.get("projection", []), *aggregates])
    return [t.template_id, body.get("view", ""), period, columns, t.version, stamp(t.modified)]


@templates_app.command("create")
def templates_create(file: Path = FileOpt, as_json: bool = JsonOpt) -> None:
    """Create a report template from a JSON file."""
    body = read_input(file)
    with configured_client() as client:
        template_id = client.create_template(body)
    done(as_json, {"templateId": template_id}, f"created template {template_id}")


@templates_app.command("list")
def templates_list(as_json: bool = JsonOpt) -> None:
    """List your report templates."""
    with configured_client() as client:
        found = client.list_templates()
    if as_json:
        print_json([t.raw for t in found])
        return
    columns = ["id", "view", "period", "columns", "version", "modified"]
    print_table("report templates", columns, [_template_row(t) for t in found], wrap=("columns",))


@templates_app.command("show")
def templates_show(
    template_id: int = typer.Argument(..., help="Template id."),
    version: int = typer.Option(None, "--version", min=1, help="An older version."),
    as_json: bool = JsonOpt,
) -> None:
    """Show a template (its current version, or --version N)."""
    with configured_client() as client:
        found = client.get_template(template_id, version)
    if as_json:
        print_json(found.raw)
        return
    head = f"template {found.template_id}, version {found.version} of {found.current_version}"
    say(f"{head}, modified {stamp(found.modified)}")
    out.print(JSON(json.dumps(found.template)))


@templates_app.command("edit")
def templates_edit(
    template_id: int = typer.Argument(..., help="Template id."),
    file: Path = typer.Option(..., "--file", "-f", help="The new template JSON (full replacement)."),
    as_json: bool = JsonOpt,
) -> None:
    """Replace a template (makes a new version)."""
    body = read_input(file)
    with configured_client() as client:
        client.edit_template(template_id, body)
    done(as_json, {"templateId": template_id}, f"edited template {template_id}")


@templates_app.command("delete")
def templates_delete(
    template_id: int = typer.Argument(..., help="Template id."), as_json: bool = JsonOpt
) -> None:
    """Delete a template (refused while a scheduled report uses it)."""
    with configured_client() as client:
        client.delete_template(template_id)
    done(as_json, {"templateId": template_id}, f"deleted template {template_id}")


@templates_app.command("preview")
def templates_preview(file: Path = FileOpt, as_json: bool = JsonOpt) -> None:
    """Run a template now and show its first rows (nothing is stored)."""
    body = read_input(file)
    with configured_client() as client:
        preview = client.preview_template(body)
    if as_json:
        print_json({"columns": preview.columns, "rows": preview.rows, "truncated": preview.truncated})
        return
    title = f"preview of {preview.window_start} to {preview.window_end} (exclusive)"
    title += ", truncated" if preview.truncated else ""
    print_table(title, preview.columns, preview.rows, wrap=tuple(preview.columns))


@templates_app.command("rates")
def templates_rates(
    by: list[str] = typer.Option(
        ["DriverName", "DriverVersion"],
        "--by",
        help="Group by (repeat): DriverName, DriverVersion, OSVersion, FailureDate, ReportId.",
    ),
    period: str = typer.Option("Last30Days", "--period", help="dateRange.reportPeriod."),
    view: str = typer.Option("IHVDriver", "--view", help="IHVDriver or OEMDriver."),
    compare: bool = typer.Option(
        None, "--compare/--no-compare", help="compareVersions (default: with DriverVersion)."
    ),
    driver: list[str] = typer.Option([], "--driver", help="Keep these driver names (repeat)."),
    only_regressed: bool = typer.Option(False, "--only-regressed", help="Keep the Regressed versions."),
    limit: int = typer.Option(0, "--limit", min=0, help="At most this many rows (0: all)."),
    create: bool = typer.Option(False, "--create", help="Create the template (prints its id)."),
    preview: bool = typer.Option(False, "--preview", help="Run it now and show the first rows."),
    as_json: bool = JsonOpt,
) -> None:
    """Build a failure-rate template (FAILURERATE(DeviceId)); print it, --create it or --preview it."""
    try:
        body = failure_rate_template(
            view=view,
            by=by,
            period=period,
            compare_versions=compare,
            drivers=driver,
            only_regressed=only_regressed,
            limit=limit,
        )
    except ValueError as exc:
        usage(str(exc))
    if not create and not preview:
        if as_json:
            print_json(body)
        else:
            out.print(JSON(json.dumps(body)))
        return
    with configured_client() as client:
        if create:
            template_id = client.create_template(body)
            done(as_json, {"templateId": template_id, "template": body}, f"created template {template_id}")
            return
        shown = client.preview_template(body)
    if as_json:
        print_json({"columns": shown.columns, "rows": shown.rows, "truncated": shown.truncated})
        return
    title = f"failure rates, {shown.window_start} to {shown.window_end} (exclusive)"
    print_table(title, shown.columns, shown.rows, wrap=tuple(shown.columns))
