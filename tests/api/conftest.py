"""Fixtures: one real server process per session (plus a strictly limited one for limit tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server import Creds, Server, prepare_data_dir, start_server

IHV = "Contoso Graphics"
IHV2 = "Fabrikam Audio"
OEM = "Northwind Systems"
EMPTY = "Empty Drivers"


@pytest.fixture(scope="session")
def api_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Creds]]:
    data_dir = tmp_path_factory.mktemp("api") / "var"
    return data_dir, prepare_data_dir(data_dir)


@pytest.fixture(scope="session")
def server(api_data: tuple[Path, dict[str, Creds]]) -> Iterator[Server]:
    data_dir, partners = api_data
    instance = start_server(data_dir, partners)
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def limited_server(api_data: tuple[Path, dict[str, Creds]]) -> Iterator[Server]:
    """Same data, but 30 requests per minute and 4 KiB bodies."""
    data_dir, partners = api_data
    env = {"DRIVERLENS_RATE_LIMIT_PER_MINUTE": "30", "DRIVERLENS_MAX_BODY_BYTES": "4096"}
    instance = start_server(data_dir, partners, env)
    yield instance
    instance.stop()


from tests.api.inproc import inproc, inproc_data  # noqa: E402, F401  (fixtures for the in-process app)
