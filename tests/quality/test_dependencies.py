"""Direct dependencies are bounded above and pinned for CI; JWTs go through PyJWT (issue 13, items 19 and 20)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _requirements() -> list[str]:
    project = PYPROJECT["project"]
    return [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]


def test_every_direct_dependency_has_an_upper_bound():
    assert [r for r in _requirements() if "<" not in r] == []


def test_the_constraints_pin_every_direct_dependency():
    pinned = {line.split("==")[0].lower().replace("_", "-")
              for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line}
    names = {re.split(r"[\[<>=!~ ]", r)[0].lower().replace("_", "-") for r in _requirements()}
    assert names - pinned == set()


def test_jwt_is_pyjwt_not_python_jose():
    assert not any(r.lower().startswith("python-jose") for r in _requirements())
    assert any(r.lower().startswith("pyjwt") for r in _requirements())
    source = (ROOT / "app" / "core" / "security.py").read_text(encoding="utf-8")
    assert "import jwt" in source and "jose" not in source
