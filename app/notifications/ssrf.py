"""Where a webhook may be sent: refuse addresses inside our network (SSRF).

`forbidden_reason(ip)` is pure; `resolve_public(host, port, allow_private)` resolves a host name (getaddrinfo in a
thread) and refuses it when ANY of its addresses is forbidden. It runs at registration and again before every
delivery, and the delivery connects to the address it checked (so a DNS answer changed in between cannot slip an
internal address in).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_TIMEOUT_SECONDS = 5.0

# kinds that WEBHOOK_ALLOW_PRIVATE lets through (a receiver on this machine or the LAN, for tests and development)
PRIVATE_KINDS = frozenset({"private", "loopback", "link_local"})


URL_MAX = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}


class UrlInvalid(ValueError):
    """A subscriber URL we will not call; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # lower case, IDNA (punycode) for international names, no brackets for IPv6
    port: int


def host_header(t: Target) -> str:
    """The Host header for a request to `t` sent to one of its addresses."""
    name = f"[{t.host}]" if ":" in t.host else t.host
    return name if t.port == DEFAULT_PORTS[t.scheme] else f"{name}:{t.port}"


def parse_url(url: str) -> Target:
    """Check a subscriber URL's form (pure): http(s), a host, no credentials, no fragment, a valid port."""
    if len(url) > URL_MAX:
        raise UrlInvalid(f"longer than {URL_MAX} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UrlInvalid("contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlInvalid(f"not a URL: {exc}") from exc
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise UrlInvalid("the scheme must be http or https")
    if port == 0:
        raise UrlInvalid("port 0 is not a port")
    if parts.username is not None or parts.password is not None:
        raise UrlInvalid("credentials in the URL are not allowed")
    if parts.fragment:
        raise UrlInvalid("a fragment (#...) is not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlInvalid("the URL has no host")
    if _literal(host) is None:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UrlInvalid("the host name is not valid") from exc
        if not all(label and len(label) <= 63 for label in host.split(".")):
            raise UrlInvalid("the host name is not valid")
    scheme = parts.scheme.lower()
    return Target(scheme, host.lower(), port or DEFAULT_PORTS[scheme])


class AddressRefused(Exception):
    """The URL's host cannot be used: `kind` is `unresolvable` or why an address is forbidden."""

    def __init__(self, kind: str, address: str | None = None):
        super().__init__(kind)
        self.kind = kind
        self.address = address


def forbidden_reason(ip: IP) -> str | None:
    """Why an address must not be called, or None for a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return forbidden_reason(ip.ipv4_mapped)
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or not ip.is_global:  # RFC 1918, ULA, carrier-grade NAT, documentation ranges ...
        return "private"
    return None


def check(ip: IP, allow_private: bool) -> None:
    reason = forbidden_reason(ip)
    if reason is not None and not (allow_private and reason in PRIVATE_KINDS):
        raise AddressRefused(reason, str(ip))


@dataclass(frozen=True, slots=True)
class Resolved:
    host: str
    addresses: tuple[str, ...]  # every address the name has, all allowed; the first is the one to connect to


def _literal(host: str) -> IP | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve_public(host: str, port: int, allow_private: bool) -> Resolved:
    """Every address of `host`, each checked; AddressRefused if it does not resolve or one is forbidden."""
    literal = _literal(host)
    if literal is not None:
        check(literal, allow_private)
        return Resolved(host, (str(literal),))
    try:
        infos = await asyncio.wait_for(asyncio.to_thread(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM),
                                       RESOLVE_TIMEOUT_SECONDS)
    except (OSError, UnicodeError, ValueError, TimeoutError) as exc:
        raise AddressRefused("unresolvable") from exc
    found: list[str] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        check(ip, allow_private)
        if str(ip) not in found:
            found.append(str(ip))
    if not found:
        raise AddressRefused("unresolvable")
    return Resolved(host, tuple(found))
