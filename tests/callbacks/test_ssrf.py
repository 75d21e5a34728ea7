"""The SSRF guard: a corpus of hostile callback URLs is refused before any connection is made."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from driverlens.callbacks.delivery import check_and_deliver
from driverlens.callbacks.ssrf import CallbackGuard, address_problem, parse_allowed_networks
from driverlens.errors import ValidationFailed
from driverlens.settings import Settings

from .conftest import ConnectMonitor, Listener


class FakeResolver:
    """Resolves names from a table and counts lookups; unknown names fail like DNS would."""

    def __init__(self, table: dict[str, Sequence[str]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        if host not in self.table:
            raise OSError(f"name {host} not known")
        return self.table[host]


RESOLVER_TABLE = {
    "localhost": ["127.0.0.1", "::1"],
    "internal.example": ["10.1.2.3"],
    "mixed.example": ["93.184.215.14", "192.168.1.7"],
    "metadata.example": ["169.254.169.254"],
    "mapped.example": ["::ffff:10.0.0.1"],
    "public.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
}


def hostile_urls(port: int) -> list[str]:
    p = port
    return [
        f"http://127.0.0.1:{p}/",
        f"http://localhost:{p}/",
        f"http://LOCALHOST.:{p}/",
        f"http://0x7f000001:{p}/",
        f"http://0x7f.0.0.1:{p}/",
        f"http://2130706433:{p}/",
        f"http://017700000001:{p}/",
        f"http://0177.0.0.1:{p}/",
        f"http://127.1:{p}/",
        f"http://[::1]:{p}/",
        f"http://[::ffff:127.0.0.1]:{p}/",
        f"http://[::ffff:7f00:1]:{p}/",
        f"http://[::127.0.0.1]:{p}/",
        f"http://[2002:7f00:1::1]:{p}/",
        f"http://[64:ff9b::7f00:1]:{p}/",
        f"http://[fe80::1%25lo]:{p}/",
        "http://10.0.0.1/",
        "http://10.255.255.254:8080/",
        "http://172.16.0.1/",
        "http://172.31.255.1/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://100.64.0.1/",
        "http://100.127.255.254/",
        "http://0.0.0.0/",
        "http://0/",
        "http://[::]/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://240.0.0.1/",
        "http://198.18.0.1/",
        "http://192.0.2.1/",
        "http://internal.example/",
        "http://mixed.example/",
        "http://metadata.example/",
        "http://mapped.example/",
        "http://nonexistent.example/",
        "ftp://93.184.215.14/",
        "file:///etc/passwd",
        "gopher://93.184.215.14/",
        "javascript:alert(1)",
        "http://user:pw@public.example/",
        "http://public.example@127.0.0.1/",
        "https://@public.example/",
        "http:///nohost",
        "http://public.example:0/",
        "http://public.example:99999/",
        "http://pub lic.example/",
        "http://public.example\\@127.0.0.1/",
        "http://xn--/",
        "",
        "http://" + "a" * 2100 + ".example/",
    ]


def test_hostile_urls_refused_without_any_connection(
    listener: Listener, connect_monitor: ConnectMonitor
) -> None:
    resolver = FakeResolver(RESOLVER_TABLE)
    guard = CallbackGuard([], resolver=resolver)
    corpus = hostile_urls(listener.port)
    messages = []
    for url in corpus:
        with pytest.raises(ValidationFailed) as exc:
            check_and_deliver(guard, url, b"{}", {}, timeout=1)
        problem = exc.value.problems()[0]
        assert problem.path == "callbackUrl" and problem.code == "InvalidCallbackUrl"
        messages.append(exc.value.message)
    assert connect_monitor.calls == []
    assert listener.accepted() == 0
    print(f"ssrf corpus refused={len(corpus)} connections=0")
    # The messages name what is wrong.
    assert any("loopback" in m for m in messages)
    assert any("IPv4-mapped" in m for m in messages)
    assert any("metadata" in m for m in messages)
    assert any("shared" in m for m in messages)
    assert any("scheme must be http or https" in m for m in messages)
    assert any("user information" in m for m in messages)
    assert any("does not resolve" in m for m in messages)


def test_control_allowed_loopback_does_connect(listener: Listener, connect_monitor: ConnectMonitor) -> None:
    """Proof the monitors can see a connection: with loopback allowed, the same path connects."""
    guard = CallbackGuard(parse_allowed_networks("127.0.0.0/8"))
    result = check_and_deliver(guard, f"http://127.0.0.1:{listener.port}/", b"{}", {}, timeout=0.3)
    assert result.error is not None and "timed out" in result.error
    assert connect_monitor.calls == [("127.0.0.1", listener.port)]
    assert listener.accepted() == 1


def test_decimal_and_hex_forms_normalise_to_the_same_address() -> None:
    guard = CallbackGuard(parse_allowed_networks("127.0.0.0/8"), resolver=FakeResolver({}))
    for host in ["127.0.0.1", "0x7f000001", "2130706433", "017700000001", "127.1", "0x7f.1"]:
        assert guard.check_url(f"http://{host}:81/").addresses == ("127.0.0.1",)


def test_public_targets_pass_and_are_resolved_once() -> None:
    resolver = FakeResolver(RESOLVER_TABLE)
    guard = CallbackGuard([], resolver=resolver)
    target = guard.check_url("https://Public.Example/hooks/dl?a=1#frag")
    assert target.host == "public.example" and target.port == 443 and target.scheme == "https"
    assert target.target == "/hooks/dl?a=1"
    assert target.addresses == ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert resolver.lookups == ["public.example"]
    assert guard.check_url("http://8.8.8.8:8080").target == "/"


def test_allowed_networks_are_narrow() -> None:
    guard = CallbackGuard(parse_allowed_networks("10.1.0.0/16"), resolver=FakeResolver(RESOLVER_TABLE))
    assert guard.check_url("http://internal.example/").addresses == ("10.1.2.3",)
    with pytest.raises(ValidationFailed):
        guard.check_url("http://10.2.0.1/")
    with pytest.raises(ValidationFailed):
        guard.check_url("http://mixed.example/")  # one private address is enough to refuse


def test_parse_allowed_networks(settings: Settings) -> None:
    assert parse_allowed_networks(settings.callback_allowed_networks) == []
    nets = parse_allowed_networks(" 127.0.0.0/8, ::1/128 ,,10.0.0.1")
    assert [str(n) for n in nets] == ["127.0.0.0/8", "::1/128", "10.0.0.1/32"]
    with pytest.raises(ValidationFailed) as exc:
        parse_allowed_networks("10.0.0.0/33, bogus, 127.0.0.0/8")
    problems = exc.value.problems()
    assert len(problems) == 2 and "bogus" in problems[1].message
    assert "DRIVERLENS_CALLBACK_ALLOWED_NETWORKS" in problems[0].path


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "93.184.215.14", "2606:4700::1111", "2002:808:808::1"],
)
def test_public_addresses(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None
