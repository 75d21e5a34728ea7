"""``driverlens worker``: run scheduled reports until SIGTERM (then finish or hand back runs in hand)."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import typer

from driverlens.settings import get_settings


def worker(
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1, help="Runs executed at the same time."),
    lease_seconds: float = typer.Option(60.0, min=1.0, help="Lease length; renewed every third of it."),
    poll_seconds: float = typer.Option(1.0, min=0.01, help="Pause between polls when there is no work."),
    grace_seconds: float = typer.Option(20.0, min=0.0, help="On SIGTERM, time to finish runs in hand."),
    metrics_port: int | None = typer.Option(
        None,
        "--metrics-port",
        min=0,
        max=65535,
        help="Serve Prometheus /metrics on this port (0: any free port, printed); "
        "default DRIVERLENS_WORKER_METRICS_PORT, unset: no metrics server.",
    ),
) -> None:
    """Plan, claim and run scheduled reports; deliver callbacks; purge expired files daily."""
    from driverlens.observability import ProcessMetrics
    from driverlens.observability.logs import configure_logging
    from driverlens.observability.server import MetricsServer
    from driverlens.runs.worker import Worker, WorkerOptions, build_worker

    settings = get_settings()
    configure_logging(settings.log_format)
    options = WorkerOptions(lease_s=lease_seconds, poll_s=poll_seconds, grace_s=grace_seconds)
    metrics = ProcessMetrics("worker")
    port = metrics_port if metrics_port is not None else settings.worker_metrics_port
    started: list[Worker] = []  # /healthz says "ok" once the worker runs, until it is stopping
    server = None
    if port is not None:  # the port is claimed first: a busy one ends the command before any work
        try:
            server = MetricsServer(
                settings.worker_metrics_host,
                port,
                metrics.render,
                lambda: bool(started) and not started[0].stopping,
            )
        except OSError as exc:
            typer.echo(
                f"error: cannot serve metrics on {settings.worker_metrics_host}:{port}: {exc.strerror}; "
                "choose another --metrics-port (0 picks a free one)",
                err=True,
            )
            raise typer.Exit(1) from exc
    instance = build_worker(settings, concurrency=concurrency, options=options, metrics=metrics)
    started.append(instance)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %d: stopping after the runs in hand", signum)
        instance.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    typer.echo(f"worker {instance.worker_id} running with {concurrency} slot(s); SIGTERM stops it")
    if server is not None:
        server.start()
        host, bound = server.address
        typer.echo(f"metrics at http://{host}:{bound}/metrics")
    try:
        instance.run_forever()
    finally:
        if server is not None:
            server.stop()
        instance.db.dispose()
