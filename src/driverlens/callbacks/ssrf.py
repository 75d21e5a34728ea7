"""The SSRF guard: callback URLs may only reach public addresses, unless the operator allows a network.

The host is resolved once and every address is checked; delivery then connects to exactly those
addresses (see ``delivery``), so a DNS answer cannot change between the check and the connection.
Numeric hosts in any legacy spelling (``2130706433``, ``0x7f000001``, ``017700000001``, ``127.1``) are
normalised the way the C resolver would read them, then checked like any other address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from driverlens.errors import Problem, ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

MAX_URL_LENGTH = 2048
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPAT = ipaddress.ip_network("::/96")
_NUMERIC_HOST = re.compile(r"[0-9a-fA-Fx.]+")
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


@dataclass(frozen=True)
class ResolvedTarget:
    """A checked callback URL and the addresses to connect to (and nothing else)."""

    url: str
    scheme: str
    host: str
    port: int
    target: str  # path and query sent in the request line
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_allowed_networks(text: str) -> list[IPNetwork]:
    """Parse ``DRIVERLENS_CALLBACK_ALLOWED_NETWORKS`` (comma-separated CIDRs)."""
    networks: list[IPNetwork] = []
    problems: list[Problem] = []
    for index, raw in enumerate(p.strip() for p in text.split(",")):
        if not raw:
            continue
        try:
            networks.append(ipaddress.ip_network(raw, strict=False))
        except ValueError:
            problems.append(
                Problem(
                    path=f"DRIVERLENS_CALLBACK_ALLOWED_NETWORKS[{index}]",
                    message=f"{raw!r} is not a CIDR network such as 127.0.0.0/8 or fd00::/8",
                    value=raw,
                    code="InvalidConfiguration",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    return networks


def _refuse(url: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        [Problem(path="callbackUrl", message=message, value=url[:200], code="InvalidCallbackUrl")]
    )


class UnresolvedHost(ValidationFailed):
    """The callback host name did not resolve now: DNS may be down or the receiver not live yet.

    Unlike every other refusal this one may go away by itself, so scheduling accepts it and delivery
    retries it (names are resolved, and every address checked, at each delivery).
    """


def _unresolved(url: str, message: str) -> UnresolvedHost:
    return UnresolvedHost(
        [Problem(path="callbackUrl", message=message, value=url[:200], code="InvalidCallbackUrl")]
    )


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be reached by default, or None if it is a public unicast address."""
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if ip in _IPV4_COMPAT and int(ip) > 1:
            return "an IPv4-compatible IPv6 address"
        embedded: list[ipaddress.IPv4Address] = []
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
        if any(ip in net for net in _NAT64):
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        for inner in embedded:
            inner_problem = address_problem(inner)
            if inner_problem is not None:
                return f"an IPv6 address embedding {inner} ({inner_problem})"
        if ip.is_site_local:
            return "a site-local address"
    checks: list[tuple[bool, str]] = [
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "a shared (carrier-grade NAT) address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    ]
    for failed, reason in checks:
        if failed:
            return reason
    return None


class CallbackGuard:
    """Checks callback URLs; ``allowed_networks`` lets an operator permit otherwise refused targets."""

    def __init__(
        self, allowed_networks: Iterable[IPNetwork] = (), resolver: Resolver = system_resolver
    ) -> None:
        self.allowed_networks = tuple(allowed_networks)
        self._resolver = resolver

    @classmethod
    def from_setting(cls, allowed: str, resolver: Resolver = system_resolver) -> CallbackGuard:
        return cls(parse_allowed_networks(allowed), resolver)

    def is_allowed(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.allowed_networks)

    def check_url(self, url: str) -> ResolvedTarget:
        """Validate ``url``, resolve its host once and check every address; raise ``ValidationFailed``."""
        scheme, host, port, target = self._parse(url)
        literal = _ip_literal(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            try:
                raw = self._resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise _unresolved(url, f"callback host {host!r} does not resolve ({exc})") from exc
            if not raw:
                raise _unresolved(url, f"callback host {host!r} has no addresses")
            try:
                addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in raw]
            except ValueError as exc:
                raise _refuse(url, f"callback host {host!r} resolved to an invalid address") from exc
        for ip in addresses:
            if self.is_allowed(ip):
                continue
            problem = address_problem(ip)
            if problem is not None:
                raise _refuse(
                    url,
                    f"callback URL host {host!r} resolves to {ip}, {problem}; callbacks may only reach "
                    "public addresses unless the operator allows the network in "
                    "DRIVERLENS_CALLBACK_ALLOWED_NETWORKS",
                )
        return ResolvedTarget(
            url=url,
            scheme=scheme,
            host=host,
            port=port,
            target=target,
            addresses=tuple(dict.fromkeys(str(ip) for ip in addresses)),
        )

    @staticmethod
    def _parse(url: str) -> tuple[str, str, int, str]:
        if not isinstance(url, str) or not url:
            raise _refuse(str(url), "callback URL must be a non-empty string")
        if len(url) > MAX_URL_LENGTH:
            raise _refuse(url, f"callback URL is longer than {MAX_URL_LENGTH} characters")
        if any(ord(c) < 0x21 or ord(c) == 0x7F or c == "\\" for c in url):
            raise _refuse(url, "callback URL must not contain spaces, control characters or backslashes")
        try:
            parts = urlsplit(url)
            port_given = parts.port
        except ValueError as exc:
            raise _refuse(url, f"callback URL is malformed ({exc})") from exc
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise _refuse(
                url, f"callback URL scheme must be http or https, not {parts.scheme or 'missing'!r}"
            )
        if "@" in parts.netloc:
            raise _refuse(url, "callback URL must not contain user information (user:password@)")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise _refuse(url, "callback URL has no host")
        if "%" in host:
            raise _refuse(url, "callback URL host must not contain '%' (encoded characters or IPv6 zone ids)")
        if port_given == 0:
            raise _refuse(url, "callback URL port must be between 1 and 65535")
        port = port_given or (443 if scheme == "https" else 80)
        if _ip_literal(host) is None:
            try:
                host = host.encode("idna").decode("ascii").lower()
            except UnicodeError as exc:
                raise _refuse(url, f"callback URL host {host!r} is not a valid host name") from exc
            if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in host.split(".")):
                raise _refuse(url, f"callback URL host {host!r} is not a valid host name")
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        return scheme, host, port, target


def _ip_literal(host: str) -> IPAddress | None:
    """The address a numeric host denotes, in any spelling the C resolver accepts; None for names."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host) and any(c.isdigit() for c in host.split(".")[0][:1]):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None
