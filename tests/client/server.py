"""A real server process with its in-process worker (runs complete), on the API tests' seeded data."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tests.api.server import Creds, Server, start_server


def start_server_with_worker(
    data_dir: Path, partners: dict[str, Creds], env: Mapping[str, str] | None = None
) -> Server:
    """``python -m driverlens serve`` with its worker (one DuckDB thread per run, to share the cores)."""
    return start_server(data_dir, partners, {"DRIVERLENS_ENGINE_THREADS": "1", **(env or {})}, worker=True)
