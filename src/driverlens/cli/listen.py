"""Claim the listening socket first: a busy port fails at once, before any seeding or banner.

``driverlens serve`` and ``driverlens demo`` bind and listen here, then hand the socket to uvicorn, so
there is no gap in which another process could take the port between the check and the start.
"""

from __future__ import annotations

import errno
import socket

from driverlens.errors import DriverLensError

BACKLOG = 2048  # uvicorn's default


class PortUnavailable(DriverLensError):
    """The address and port to serve on cannot be bound (in use, or not allowed)."""

    status = 409
    code = "PortUnavailable"


def claim_port(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (``0`` picks a free port), or ``PortUnavailable``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a restart may reuse the port while old connections sit in TIME_WAIT. On Linux
    # this does not let two live servers share it: a port with a listener still refuses the bind.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise PortUnavailable(_explain(host, port, exc)) from exc
    return sock


def _explain(host: str, port: int, exc: OSError) -> str:
    other = port + 1 if 0 < port < 65535 else 8001
    choose = (
        f"choose another port: `DRIVERLENS_PORT={other} make run`, or "
        f"`driverlens demo --port {other}` / `driverlens serve --port {other}`"
    )
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (is `make run` or `driverlens serve` running in "
            f"another terminal?); stop that process, or {choose}"
        )
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port} on {host} (ports below 1024 need privileges); {choose}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"{host} is not an address of this machine; choose another with DRIVERLENS_HOST or --host "
            "(127.0.0.1 for this machine only, 0.0.0.0 for every interface)"
        )
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}; {choose}"
