"""Module hygiene (issue 13, item 21): pure modules import no ORM models, and app/ has no import cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
PURE = ["app.reports.lifecycle", "app.auth.principal", "app.users.roles", "app.notifications.catalog",
        "app.deliberation.lifecycle", "app.deliberation.tally", "app.deliberation.policies",
        "app.announcements.policies",
        "app.notifications.signing", "app.notifications.backoff", "app.notifications.ssrf",
        "app.notifications.webhooks_events",
        "app.bookings.states", "app.bookings.rules", "app.bookings.errands", "app.bookings.timetable",
        "app.bookings.policies"]
PURE += ["app.groups.enums", "app.groups.policies", "app.points.enums", "app.points.policies"]  # issue 16
PURE += ["app.privacy.policies"]  # issue 21
PURE += ["app.clients.scopes", "app.clients.secrets", "app.clients.origins", "app.clients.operations"]  # issue 18
PURE += ["app.auth.codes", "app.auth.bind_ticket"]  # issue 18
PURE += ["app.open311.formats", "app.open311.mapping"]  # issue 19
PURE += ["app.stats.rollup_math"]  # issue 20


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_load_no_models(module):
    code = (f"import sys, {module}; "
            "print(sorted(m for m in sys.modules if m.startswith('app.') and m.endswith('.models')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=APP.parent).stdout.strip()
    assert out == "[]", f"{module} pulls in ORM models: {out}"


def _top_level_imports(path: Path) -> set[str]:
    """app.* modules imported anywhere in the file: a late import inside a function hides a cycle, not ends it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("app"))
    return found


def test_no_import_cycle_in_app():
    modules = {".".join(p.relative_to(APP.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in APP.rglob("*.py") if "versions" not in p.parts}
    graph = {m: {i for i in _top_level_imports(p) if i in modules and i != m} for m, p in modules.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n] if n in stack else [m, n])
            elif n not in state:
                visit(n, [*stack, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_the_tests_do_not_depend_on_the_bench():
    """The bench is tooling on top (wrk, seeded databases); what tests need lives in tests/support/."""
    tests = APP.parent / "tests"
    found = [f"{p.relative_to(tests)}: {m}" for p in tests.rglob("*.py")
             for m in (n.module for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
                       if isinstance(n, ast.ImportFrom)) if m and (m == "bench" or m.startswith("bench."))]
    found += [f"{p.relative_to(tests)}" for p in tests.rglob("*.py")
              if any(isinstance(n, ast.Import) and any(a.name.split(".")[0] == "bench" for a in n.names)
                     for n in ast.walk(ast.parse(p.read_text(encoding="utf-8"))))]
    assert found == []
