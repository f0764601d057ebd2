"""The committed OpenAPI document: generated from the app, compared by a test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.core.config import Env, Settings


def current_openapi() -> dict[str, Any]:
    from app.main import create_app

    # A fixed secret: the document must not depend on the environment it is generated in.
    settings = Settings(weilinli_env=Env.test, jwt_secret="openapi-generation-only-" + "x" * 16)
    return create_app(settings).openapi()


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_openapi(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(current_openapi()), encoding="utf-8")
    return path
