"""Log set-up for the long-running commands: human text (the default) or one JSON object per line.

Context that a log call does not spell out travels in context variables: the request's trackingId
(set by the API middleware for everything logged while serving it, including in worker threads it
hands work to) and the run and report a worker slot is running. The JSON formatter adds them to every
line; the text format keeps its familiar shape.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

tracking_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("tracking_id", default=None)
run_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("run_id", default=None)
report_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("report_id", default=None)


@contextmanager
def request_context(tracking: str) -> Iterator[None]:
    """Everything logged inside (in this task, or in threads it hands a copied context) carries it."""
    token = tracking_id.set(tracking)
    try:
        yield
    finally:
        tracking_id.reset(token)


@contextmanager
def run_context(run: int, report: int | None) -> Iterator[None]:
    """Working on ``run`` of ``report`` (a worker slot, a callback): the ids go on every line logged."""
    run_token, report_token = run_id.set(run), report_id.set(report)
    try:
        yield
    finally:
        report_id.reset(report_token)
        run_id.reset(run_token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then whatever context is set."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        tracking = tracking_id.get()
        if tracking is not None:
            entry["trackingId"] = tracking
        run, report = run_id.get(), report_id.get()
        if run is not None:
            entry["runId"] = run
        if report is not None:
            entry["reportId"] = report
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(
    log_format: LogFormat, level: str | int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Replace the root logger's handlers with one that writes ``log_format`` to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
