"""Plumbing of ``driverlens client``: exit codes, error messages, the configured client, output helpers.

Exit codes: 0 ok, 1 other errors, 2 usage or configuration errors, 3 the server refused the input,
4 authentication or permission errors, 5 not found, 6 network errors.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from driverlens.client import (
    AuthError,
    DriverLensClient,
    DriverLensClientError,
    NetworkError,
    NotFoundError,
    ValidationError,
)
from driverlens.client.config import ClientConfig, ConfigError, load_config

EXIT_OTHER, EXIT_USAGE, EXIT_VALIDATION, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_NETWORK = 1, 2, 3, 4, 5, 6

out = Console(soft_wrap=False)
JsonOpt = typer.Option(False, "--json", help="Print JSON (for scripts).")
_CODES: tuple[tuple[type[DriverLensClientError], int], ...] = (
    (ConfigError, EXIT_USAGE),
    (ValidationError, EXIT_VALIDATION),
    (AuthError, EXIT_AUTH),
    (NotFoundError, EXIT_NOT_FOUND),
    (NetworkError, EXIT_NETWORK),
)


def exit_code(exc: DriverLensClientError) -> int:
    return next((code for cls, code in _CODES if isinstance(exc, cls)), EXIT_OTHER)


def hint(exc: DriverLensClientError, base_url: str) -> str | None:
    """What to do next about ``exc``."""
    if isinstance(exc, ValidationError):
        return (
            "fix what is listed above and try again (`driverlens client templates preview` checks a template)"
        )
    if isinstance(exc, AuthError) and exc.status == 403:
        return "this partner may not do that; check that you logged in as the right partner"
    if isinstance(exc, AuthError):
        return "check the tenant, client id and secret (`driverlens client login`), or ask for a new client"
    if isinstance(exc, NotFoundError) and exc.status == 404:
        return "list your ids with `driverlens client templates list` or `driverlens client reports list`"
    if isinstance(exc, NetworkError):
        return f"check that the server at {base_url or 'the base URL'} is running and the base URL is right"
    if exc.status is not None and exc.status >= 500:
        return "try again later; quote the tracking id to the operator if it keeps failing"
    return None


def say_error(text: str) -> None:
    typer.echo(text, err=True)


def fail(exc: DriverLensClientError, base_url: str = "", advice: str | None = None) -> NoReturn:
    """Print the error (every server message, the tracking id, what to do next) and exit."""
    if exc.errors:
        tracking = f", trackingId {exc.tracking_id}" if exc.tracking_id else ""
        say_error(f"error: the server refused the request (HTTP {exc.status}{tracking}):")
        for detail in exc.errors:
            say_error(f"  - {detail.message}")
    else:
        say_error(f"error: {exc.message}")
    advice = advice or hint(exc, base_url)
    if advice:
        say_error(f"next: {advice}")
    raise typer.Exit(exit_code(exc))


def usage(message: str) -> NoReturn:
    say_error(f"error: {message}")
    raise typer.Exit(EXIT_USAGE)


def client_for(config: ClientConfig) -> DriverLensClient:
    """A client for ``config``; ``DRIVERLENS_CLIENT_RETRIES`` and ``..._TIMEOUT`` tune it."""
    try:
        retries = int(os.environ.get("DRIVERLENS_CLIENT_RETRIES") or 4)
        timeout = float(os.environ.get("DRIVERLENS_CLIENT_TIMEOUT") or 30)
    except ValueError:
        usage("DRIVERLENS_CLIENT_RETRIES must be a whole number and DRIVERLENS_CLIENT_TIMEOUT seconds")
    return DriverLensClient.from_config(config, retries=max(0, retries), timeout=timeout)


@contextmanager
def configured_client() -> Iterator[DriverLensClient]:
    """A client from the saved configuration; SDK errors become messages and exit codes."""
    try:
        config = load_config()
    except ConfigError as exc:
        fail(exc)
    client = client_for(config)
    try:
        yield client
    except DriverLensClientError as exc:
        fail(exc, config.base_url)
    finally:
        client.close()


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(title: str, columns: list[str], rows: list[list[Any]], wrap: tuple[str, ...] = ()) -> None:
    """A table; only the columns named in ``wrap`` may wrap (ids and times stay on one line)."""
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name, overflow="fold", no_wrap=name not in wrap)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    out.print(table)


def done(as_json: bool, data: dict[str, Any], message: str) -> None:
    """The result of a command that changed something: JSON, or one sentence."""
    if as_json:
        print_json(data)
    else:
        say(message)


def say(message: str) -> None:
    """One line for people, never wrapped (links must stay copyable)."""
    out.print(message, markup=False, highlight=False, soft_wrap=True)


def read_input(file: Path) -> bytes:
    try:
        return sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        usage(f"cannot read {file}: {exc.strerror or exc}")


def parse_when(value: str | None, option: str) -> datetime | None:
    """An ISO time (UTC if no offset) or ``now``; a usage error otherwise."""
    if value is None:
        return None
    if value.strip().lower() == "now":
        return datetime.now(UTC).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a time like 2026-01-31T06:00:00Z", param_hint=option
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""
