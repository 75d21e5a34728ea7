"""One HTTP attempt of a callback, connecting only to the addresses the SSRF guard approved.

httpcore builds the request and does TLS with the URL's host name (SNI and certificate checks) while a
pinned network backend ignores that name and connects to the checked IP addresses: no second DNS
lookup happens. Redirects are never followed (a 3xx is a failed attempt), each network operation has
the timeout, the whole attempt has it as a deadline, and at most 64 KiB of the response is read.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
import typing
from dataclasses import dataclass
from datetime import datetime

import httpcore

from driverlens.callbacks.ssrf import CallbackGuard, ResolvedTarget
from driverlens.retry import parse_retry_after

MAX_RESPONSE_BYTES = 64 * 1024
DEFAULT_TIMEOUT_S = 10.0
USER_AGENT = "DriverLens-Webhooks/1"


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    retry_after_s: float | None
    duration_ms: int
    body_bytes_read: int = 0
    #: What stopped the attempt before any request was sent, for the retry policy to classify.
    failure: BaseException | None = None

    @property
    def delivered(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


class _Watchdog:
    """Enforces the whole attempt's deadline: shuts the socket down so a slow-drip peer cannot stall us."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._done = False
        self.fired = False

    def watch(self, fd: int) -> None:
        with self._lock:
            self._fd = fd

    def fire(self) -> None:
        with self._lock:
            if self._done or self._fd is None:
                return
            self.fired = True
            # A second socket object on the same descriptor, detached afterwards so it never closes it;
            # shutdown() wakes up a recv() blocked in the delivering thread.
            sock = socket.socket(fileno=self._fd)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                sock.detach()

    def finish(self) -> None:
        with self._lock:
            self._done = True


class PinnedBackend(httpcore.NetworkBackend):
    """Connects to the pre-resolved addresses in order, whatever host name the request carries."""

    def __init__(
        self, target: ResolvedTarget, deadline: float | None = None, watchdog: _Watchdog | None = None
    ) -> None:
        self._target = target
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline
        self._watchdog = watchdog
        self.connected_to: str | None = None

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if port != self._target.port:
            raise httpcore.ConnectError(f"refusing to connect to port {port}, only {self._target.port}")
        last: Exception | None = None
        for address in self._target.addresses:
            budget = timeout
            if self._deadline is not None:
                budget = max(0.001, min(timeout or 1e9, self._deadline - time.monotonic()))
            try:
                stream = self._inner.connect_tcp(address, port, budget, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            self.connected_to = address
            if self._watchdog is not None:
                self._watchdog.watch(stream.get_extra_info("socket").fileno())
            return stream
        raise httpcore.ConnectError(f"could not connect to any address of {self._target.host}: {last}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not callback targets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _host_header(target: ResolvedTarget) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def deliver_once(
    target: ResolvedTarget,
    body: bytes,
    headers: typing.Mapping[str, str],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    now: datetime | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AttemptResult:
    """POST ``body`` to the checked target once and report what happened (never raises for I/O)."""
    started = time.monotonic()
    deadline = started + timeout
    request_headers = [
        ("Host", _host_header(target)),
        ("User-Agent", USER_AGENT),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
        *((k, v) for k, v in headers.items() if k.lower() not in ("host", "content-length", "connection")),
    ]
    url = httpcore.URL(scheme=target.scheme, host=target.host, port=target.port, target=target.target)
    extensions = {"timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}}
    status: int | None = None
    retry_after: str | None = None
    read = 0
    error: str | None = None
    watchdog = _Watchdog()
    timer = threading.Timer(timeout, watchdog.fire)
    timer.daemon = True
    timer.start()
    try:
        with httpcore.ConnectionPool(
            ssl_context=ssl_context or (ssl.create_default_context() if target.scheme == "https" else None),
            network_backend=PinnedBackend(target, deadline, watchdog),
            max_connections=1,
            retries=0,
        ) as pool:
            try:
                with pool.stream(
                    "POST", url, headers=request_headers, content=body, extensions=extensions
                ) as resp:
                    status = resp.status
                    for name, value in resp.headers:
                        if name.lower() == b"retry-after":
                            retry_after = value.decode("latin-1")
                    for chunk in resp.iter_stream():
                        read += len(chunk)
                        if read >= MAX_RESPONSE_BYTES:
                            read = MAX_RESPONSE_BYTES
                            break
                        if time.monotonic() > deadline:
                            error = f"timed out after {timeout:g} s reading the response"
                            break
            finally:
                # Before the pool closes the socket, so the watchdog never touches a reused descriptor.
                watchdog.finish()
    except httpcore.TimeoutException as exc:
        error = f"timed out after {timeout:g} s ({type(exc).__name__})"
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, ssl.SSLError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        timer.cancel()
    if watchdog.fired and (error is not None or status is None):
        error = f"timed out after {timeout:g} s (whole attempt)"
    duration_ms = round((time.monotonic() - started) * 1000)
    if error is None and status is not None and 300 <= status < 400:
        error = f"redirect ({status}) not followed; callback URLs must answer 2xx directly"
    elif error is None and status is not None and not 200 <= status < 300:
        error = f"HTTP {status}"
    retry_after_s = parse_retry_after(retry_after, now) if now is not None else _seconds_only(retry_after)
    return AttemptResult(status, error, retry_after_s, duration_ms, read)


def _seconds_only(value: str | None) -> float | None:
    if value is not None and value.strip().isdigit():
        return float(min(int(value.strip()), 10**9))
    return None


def check_and_deliver(
    guard: CallbackGuard,
    url: str,
    body: bytes,
    headers: typing.Mapping[str, str],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    now: datetime | None = None,
    sender: typing.Callable[..., AttemptResult] | None = None,
) -> AttemptResult:
    """Check ``url`` with the guard (resolving it once), then deliver to the approved addresses only.

    Raises ``ValidationFailed`` before any connection is attempted when the guard refuses the URL.
    """
    target = guard.check_url(url)
    send = sender or deliver_once
    return send(target, body, headers, timeout=timeout, now=now)
