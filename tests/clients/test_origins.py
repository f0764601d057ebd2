"""Origins: http(s)://host[:port] only, normalised as browsers send them (pure)."""

from __future__ import annotations

import pytest

from app.clients.origins import OriginInvalid, normalize_all, normalize_origin


@pytest.mark.parametrize("value, expected", [
    ("https://app.example.com", "https://app.example.com"),
    ("HTTPS://App.Example.COM", "https://app.example.com"),
    ("https://app.example.com:443", "https://app.example.com"),
    ("http://localhost:80", "http://localhost"),
    ("http://localhost:5173", "http://localhost:5173"),
    ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
    ("https://[::1]:3000", "https://[::1]:3000"),
    ("  https://a.example  ", "https://a.example"),
])
def test_good_origins(value, expected):
    assert normalize_origin(value) == expected


@pytest.mark.parametrize("value, reason", [
    ("https://*.example.com", "wildcard"),
    ("*", "wildcard"),
    ("ftp://a.example", "scheme"),
    ("a.example", "scheme"),
    ("https://a.example/", "path"),
    ("https://a.example/app", "path"),
    ("https://a.example?x=1", "path"),
    ("https://a.example#x", "path"),
    ("https://user:pw@a.example", "credentials"),
    ("https://", "host"),
    ("https://a_b.example", "host"),
    ("https://-a.example", "host"),
    ("https://a.example:0", "port"),
    ("https://a.example:65536", "port"),
    ("https://a.example:8x", "port"),
    ("https://[zz]:1", "host"),
    ("https://a .example", "format"),
    ("", "format"),
    ("https://" + "a" * 300, "format"),
])
def test_bad_origins(value, reason):
    with pytest.raises(OriginInvalid) as exc:
        normalize_origin(value)
    assert exc.value.args[0] == reason


def test_normalize_all_dedupes_and_names_the_bad_one():
    assert normalize_all(["https://a.example", "HTTPS://A.example:443", "http://b.example"]) == \
        ["https://a.example", "http://b.example"]
    with pytest.raises(OriginInvalid) as exc:
        normalize_all(["https://a.example", "https://b.example/x"])
    assert exc.value.args == ("path", "https://b.example/x")
