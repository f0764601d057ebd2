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

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_TIMEOUT_SECONDS = 5.0

# kinds that WEBHOOK_ALLOW_PRIVATE lets through (a receiver on this machine or the LAN, for tests and development)
PRIVATE_KINDS = frozenset({"private", "loopback", "link_local"})


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
    except (OSError, UnicodeError, TimeoutError) as exc:
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
