"""HTTPS to a pinned address keeps SNI and certificate checks on the host name; slow peers time out."""

from __future__ import annotations

import datetime as dt
import functools
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from driverlens.callbacks.delivery import check_and_deliver, deliver_once
from driverlens.callbacks.ssrf import CallbackGuard, parse_allowed_networks


def self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class TLSReceiver:
    def __init__(self, cert: Path, key: Path) -> None:
        self.sni: list[str | None] = []
        self.hosts: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.hosts.append(self.headers.get("Host"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)  # type: ignore[assignment, func-returns-value]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[tuple[TLSReceiver, Path]]:
    cert, key = self_signed(tmp_path, "hooks.invalid")
    receiver = TLSReceiver(cert, key)
    yield receiver, cert
    receiver.close()


def pinned_guard() -> CallbackGuard:
    return CallbackGuard(parse_allowed_networks("127.0.0.0/8"), resolver=lambda host, port: ["127.0.0.1"])


def test_https_pinned_keeps_sni_and_hostname_check(tls: tuple[TLSReceiver, Path]) -> None:
    receiver, cert = tls
    sender = functools.partial(deliver_once, ssl_context=ssl.create_default_context(cafile=str(cert)))
    result = check_and_deliver(
        pinned_guard(), f"https://hooks.invalid:{receiver.port}/cb", b"{}", {}, sender=sender
    )
    assert result.delivered and result.status_code == 204, result.error
    assert receiver.sni == ["hooks.invalid"]
    assert receiver.hosts == [f"hooks.invalid:{receiver.port}"]


def test_https_wrong_name_is_refused(tls: tuple[TLSReceiver, Path], tmp_path: Path) -> None:
    receiver, cert = tls
    sender = functools.partial(deliver_once, ssl_context=ssl.create_default_context(cafile=str(cert)))
    # Same server and CA, but the URL names another host: the certificate does not match it.
    result = check_and_deliver(
        pinned_guard(), f"https://other.invalid:{receiver.port}/cb", b"{}", {}, sender=sender
    )
    assert not result.delivered and result.status_code is None
    assert result.error is not None and "CERTIFICATE_VERIFY_FAILED" in result.error
    assert receiver.hosts == []


def test_slow_drip_headers_hit_the_whole_attempt_deadline() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    stop = threading.Event()

    def drip() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.05)  # each read succeeds well within the per-read timeout

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        guard = CallbackGuard(parse_allowed_networks("127.0.0.0/8"))
        result = check_and_deliver(guard, f"http://127.0.0.1:{port}/", b"{}", {}, timeout=0.6)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
    assert result.error is not None and "timed out" in result.error and result.status_code is None
    assert elapsed < 2.0
