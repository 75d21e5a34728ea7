"""The `driverlens` console command; each domain registers its commands here."""

from __future__ import annotations

import typer
from typer.core import TyperOption

from driverlens.cli.admin import clients_app, keys_app, partners_app
from driverlens.cli.cabs import collectors_app, ingest_cabs, inspect_cab
from driverlens.cli.client import client_app
from driverlens.cli.demo import demo
from driverlens.cli.engine import run_template
from driverlens.cli.events import compact, convert_events, ingest, purge, seed
from driverlens.cli.installs import ingest_installs
from driverlens.cli.serve import serve
from driverlens.cli.worker import worker

_display_type_rich = TyperOption.display_type_rich


def _flag_without_type(option: TyperOption, ctx: typer.Context) -> str | None:
    """Typer labels every option with its type; a flag (``--json``, ``--resume/--no-resume``) takes no
    value, so its ``<bool>`` tag only suggests one. Every other option keeps its ``<int>``, ``<path>``."""
    return None if option.is_flag else _display_type_rich(option, ctx)


TyperOption.display_type_rich = _flag_without_type  # type: ignore[method-assign,assignment]

app = typer.Typer(
    name="driverlens",
    help="DriverLens: driver failure reports compatible with the Hardware Dev Center API.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def version() -> None:
    """Print the DriverLens version."""
    from driverlens import __version__

    typer.echo(__version__)


app.command("run-template")(run_template)
app.command("ingest")(ingest)
app.command("ingest-cabs")(ingest_cabs)
app.command("ingest-installs")(ingest_installs)
app.command("inspect-cab")(inspect_cab)
app.command("purge")(purge)
app.command("seed")(seed)
app.command("convert-events")(convert_events)
app.command("compact-events")(compact)
app.command("worker")(worker)
app.command("serve")(serve)
app.command("demo")(demo)
app.add_typer(partners_app, name="partners")
app.add_typer(clients_app, name="clients")
app.add_typer(collectors_app, name="collectors")
app.add_typer(keys_app, name="keys")
app.add_typer(client_app, name="client")
