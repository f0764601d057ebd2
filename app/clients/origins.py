"""What counts as an app's origin (pure: no I/O).

An origin is what a browser sends in the `Origin` header: `http(s)://host[:port]`, nothing else. We store it
normalised the way browsers send it (lower case, no default port), so the CORS check is one exact comparison.
No path, query, fragment, credentials or wildcard: a registered origin names exactly one site."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

MAX_ORIGIN = 200
MAX_ORIGINS = 20
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginInvalid(ValueError):
    """`str(exc)` says why, for the error's details."""


def _host(netloc: str) -> tuple[str, str]:
    """(host, port text) of a netloc without credentials."""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise OriginInvalid("host")
        host, rest = netloc[1:end], netloc[end + 1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise OriginInvalid("host") from exc
        host = f"[{host}]"
    else:
        host, _, port = netloc.partition(":")
        rest = f":{port}" if ":" in netloc else ""
        if not _HOST.fullmatch(host):
            raise OriginInvalid("host")
    if rest and not rest.startswith(":"):
        raise OriginInvalid("host")
    return host, rest[1:]


def normalize_origin(value: str) -> str:
    """The origin as browsers send it, or OriginInvalid (reason: scheme, wildcard, credentials, path, host, port)."""
    text = value.strip()
    if "*" in text:
        raise OriginInvalid("wildcard")
    if not text or len(text) > MAX_ORIGIN or any(c.isspace() or ord(c) < 32 for c in text):
        raise OriginInvalid("format")
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS:
        raise OriginInvalid("scheme")
    if any(c in rest for c in "/?#\\"):
        raise OriginInvalid("path")
    if "@" in rest:
        raise OriginInvalid("credentials")
    host, port_text = _host(rest.lower())
    if port_text:
        if not port_text.isdigit() or len(port_text) > 5 or not 1 <= int(port_text) <= 65535:
            raise OriginInvalid("port")
        port = int(port_text)
        if port != _DEFAULT_PORTS[scheme]:
            return f"{scheme}://{host}:{port}"
    parts = urlsplit(f"{scheme}://{host}")
    if parts.hostname is None:
        raise OriginInvalid("host")
    return f"{scheme}://{host}"


def normalize_all(values: list[str]) -> list[str]:
    """Each origin normalised, duplicates dropped, order kept; OriginInvalid names the first bad one."""
    out: list[str] = []
    for v in values:
        try:
            n = normalize_origin(v)
        except OriginInvalid as exc:
            exc.args = (str(exc), v)
            raise
        if n not in out:
            out.append(n)
    return out
