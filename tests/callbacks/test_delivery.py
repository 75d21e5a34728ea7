"""Delivery against a real receiver on 127.0.0.1: signatures, redirects, the 64 KiB cap, timeouts."""

from __future__ import annotations

import base64
import hashlib
import hmac

from driverlens.callbacks import signing
from driverlens.callbacks.delivery import MAX_RESPONSE_BYTES, check_and_deliver
from driverlens.callbacks.ssrf import CallbackGuard, parse_allowed_networks

from .conftest import ConnectMonitor, Listener, Receiver, Reply

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def guard() -> CallbackGuard:
    return CallbackGuard(parse_allowed_networks("127.0.0.0/8"))


def verify_independently(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")]
    return any(hmac.compare_digest(expected, o) for o in offered)


def test_signed_post_verified_by_receiver(receiver: Receiver) -> None:
    body = b'{"reportId":7}'
    result = check_and_deliver(
        guard(), receiver.url, body, signing.headers(SECRET, "msg_a", 1700000000, body)
    )
    assert result.delivered and result.status_code == 200 and result.error is None
    (got,) = receiver.received
    assert got.path == "/hook?x=1" and got.body == body
    assert got.headers["host"] == f"127.0.0.1:{receiver.port}"
    assert got.headers["content-type"] == "application/json"
    assert verify_independently(SECRET, got.headers, got.body)
    tampered = dict(got.headers, **{"webhook-timestamp": "1700000001"})
    assert not verify_independently(SECRET, tampered, got.body)


def test_redirect_is_not_followed(receiver: Receiver, listener: Listener) -> None:
    receiver.replies.append(Reply(302, {"Location": f"http://127.0.0.1:{listener.port}/"}))
    result = check_and_deliver(guard(), receiver.url, b"{}", {})
    assert not result.delivered and result.status_code == 302
    assert result.error is not None and "redirect" in result.error
    assert len(receiver.received) == 1
    assert listener.accepted() == 0


def test_response_body_read_is_capped(receiver: Receiver) -> None:
    receiver.replies.append(Reply(200, body=b"x" * (4 * 1024 * 1024)))
    result = check_and_deliver(guard(), receiver.url, b"{}", {})
    assert result.delivered
    assert result.body_bytes_read == MAX_RESPONSE_BYTES


def test_timeout(receiver: Receiver) -> None:
    receiver.replies.append(Reply(200, delay_s=1.5))
    result = check_and_deliver(guard(), receiver.url, b"{}", {}, timeout=0.3)
    assert not result.delivered and result.status_code is None
    assert result.error is not None and "timed out" in result.error
    assert result.duration_ms < 1200


def test_connection_refused_is_an_error_not_an_exception(listener: Listener) -> None:
    port = listener.port
    listener.sock.close()
    result = check_and_deliver(guard(), f"http://127.0.0.1:{port}/", b"{}", {}, timeout=1)
    assert result.status_code is None and result.error is not None and "Connect" in result.error


def test_retry_after_reported(receiver: Receiver) -> None:
    receiver.replies.append(Reply(429, {"Retry-After": "120"}))
    result = check_and_deliver(guard(), receiver.url, b"{}", {})
    assert result.status_code == 429 and result.retry_after_s == 120.0 and result.error == "HTTP 429"


def test_connects_to_the_checked_address_with_the_original_host(receiver: Receiver) -> None:
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    pinned = CallbackGuard(parse_allowed_networks("127.0.0.0/8"), resolver=resolver)
    # "hooks.invalid" cannot resolve through real DNS: reaching the receiver proves the pinned address
    # was used, and the Host header keeps the name the partner configured.
    result = check_and_deliver(pinned, f"http://hooks.invalid:{receiver.port}/cb", b"{}", {})
    assert result.delivered
    assert lookups == ["hooks.invalid"]
    assert receiver.received[0].headers["host"] == f"hooks.invalid:{receiver.port}"


def test_redirect_to_metadata_address_makes_no_second_connection(
    receiver: Receiver, connect_monitor: ConnectMonitor
) -> None:
    receiver.replies.append(Reply(307, {"Location": "http://169.254.169.254/latest/meta-data/"}))
    result = check_and_deliver(guard(), receiver.url, b"{}", {})
    assert result.status_code == 307 and not result.delivered
    assert connect_monitor.calls == [("127.0.0.1", receiver.port)]
