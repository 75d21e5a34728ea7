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
) -> None:
    """Plan, claim and run scheduled reports; deliver callbacks; purge expired files daily."""
    from driverlens.runs.worker import WorkerOptions, build_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    options = WorkerOptions(lease_s=lease_seconds, poll_s=poll_seconds, grace_s=grace_seconds)
    instance = build_worker(get_settings(), concurrency=concurrency, options=options)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %d: stopping after the runs in hand", signum)
        instance.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    typer.echo(f"worker {instance.worker_id} running with {concurrency} slot(s); SIGTERM stops it")
    instance.run_forever()
    instance.db.dispose()
