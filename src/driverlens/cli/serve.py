"""``driverlens serve``: the HTTP API under uvicorn, with an in-process worker unless ``--no-worker``."""

from __future__ import annotations

import logging
import socket

import typer

from driverlens.settings import Settings, get_settings

log = logging.getLogger("driverlens.serve")


def served_settings(settings: Settings, host: str, port: int) -> Settings:
    """Links and the token issuer use the address served, unless DRIVERLENS_PUBLIC_BASE_URL says otherwise."""
    if "public_base_url" in settings.model_fields_set:
        return settings
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return settings.model_copy(update={"public_base_url": f"http://{shown}:{port}"})


def serve(
    host: str = typer.Option("127.0.0.1", "--host", envvar="DRIVERLENS_HOST", help="Address to bind."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, envvar="DRIVERLENS_PORT", help="Port."),
    worker: bool = typer.Option(True, "--worker/--no-worker", help="Run scheduled reports in this process."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, help="Worker slots (with the worker)."),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
) -> None:
    """Serve the API (migrating the metadata store first) and, unless --no-worker, run reports too."""
    listener = claim_port_or_exit(host, port)
    run_server(listener, host, worker=worker, concurrency=concurrency, log_level=log_level)


def claim_port_or_exit(host: str, port: int) -> socket.socket:
    """The listening socket, claimed before anything else; a busy port ends the command with advice."""
    from driverlens.cli.listen import PortUnavailable, claim_port

    try:
        return claim_port(host, port)
    except PortUnavailable as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


def run_server(listener: socket.socket, host: str, *, worker: bool, concurrency: int, log_level: str) -> None:
    """Serve on a socket claimed with ``claim_port_or_exit`` (uvicorn listens on it as it is)."""
    import uvicorn

    from driverlens.api import create_app
    from driverlens.api.slowclients import bounded_protocol
    from driverlens.blobs import redact
    from driverlens.metadata.migrate import migrate
    from driverlens.observability.logs import configure_logging

    port = int(listener.getsockname()[1])
    settings = served_settings(get_settings(), host, port)
    configure_logging(settings.log_format, log_level)
    redact.install()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.metadata_url)
    warn_if_unconverted(settings)
    app = create_app(settings)
    handle = None
    if worker:
        # The worker lives in the runs package; it plans, claims and runs reports in background threads.
        from driverlens.runs.worker import start_in_process_worker

        # Its runs and callbacks are counted on the API's /metrics, with the HTTP figures.
        metrics = app.state.ctx.metrics.process
        handle = start_in_process_worker(settings, concurrency=concurrency, metrics=metrics)
    log.info("DriverLens API at %s (worker: %s)", settings.public_base_url, "on" if worker else "off")
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_config=None,
        log_level=log_level.lower(),
        # Forwarded headers are weighed by the app against DRIVERLENS_TRUSTED_PROXIES (api/security.py);
        # uvicorn's own handling would believe any local peer.
        proxy_headers=False,
        http=bounded_protocol(settings.header_timeout_seconds),
    )
    try:
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        if handle is not None:
            handle.stop()
        app.state.ctx.close()


def warn_if_unconverted(settings: Settings) -> None:
    """An old single-file event store whose events are not in the table yet: say how to move them."""
    from driverlens.events import event_store

    store = event_store(settings)
    if store.legacy_path.is_file() and store.count() == 0:
        logging.getLogger("driverlens").warning(
            "%s holds events from before the event table and the table is empty: "
            "run `driverlens convert-events` to move them (reports see no events until then)",
            store.legacy_path,
        )
