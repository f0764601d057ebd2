from __future__ import annotations

import pytest

from app.core.config import Env, Settings, UnsafeSettings
from app.main import create_app


def test_production_refuses_missing_secret_and_names_it():
    with pytest.raises(UnsafeSettings, match="JWT_SECRET"):
        create_app(Settings(weilinli_env=Env.production, jwt_secret=None))


def test_production_refuses_short_secret_and_wildcard_cors():
    s = Settings(weilinli_env=Env.production, jwt_secret="short", cors_origins=["*"])
    problems = " ".join(s.problems())
    assert "JWT_SECRET" in problems and "CORS_ORIGINS" in problems


def test_production_accepts_safe_settings():
    assert Settings(weilinli_env=Env.production, jwt_secret="k" * 48).problems() == []


def test_development_generates_and_keeps_a_secret(tmp_path):
    path = tmp_path / "secret"
    s = Settings(weilinli_env=Env.development, jwt_secret=None, jwt_secret_file=path)
    first = s.signing_secret()
    assert len(first) >= 32 and path.read_text() == first
    assert s.signing_secret() == first  # kept, not regenerated
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_cors_origins_from_comma_list():
    assert Settings(cors_origins="https://a.example, https://b.example").cors_origins == [
        "https://a.example", "https://b.example"]


@pytest.mark.parametrize(("raw", "expected"), [
    ("https://a.example,https://b.example", ["https://a.example", "https://b.example"]),
    ('["https://a.example"]', ["https://a.example"]),
    ("", []),
])
def test_cors_origins_from_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("CORS_ORIGINS", raw)
    assert Settings().cors_origins == expected
