"""A typed TypeScript client generated from the committed openapi/openapi.json completes a resident's journey against a
live server (issue 18, item 6), signing in with an SMS code.

openapi-typescript generates the types, `tsc --strict` compiles tests/tsclient/src/journey.ts (no `any`, in the
journey or in the generated types), and Node runs it against a uvicorn process on the test database: SMS sign-in
(through an SMS gateway served on loopback by this test, whose inbox the journey reads), photo, report (sent twice at
once with one Idempotency-Key), the staff's steps, the timeline, the rating.

The npm packages come from the committed package-lock.json, installed once with `npm ci` into a cache directory
(WEILINLI_TSCLIENT_CACHE, default ~/.cache/weilinli-tsclient/<hash of the lock file>). Node and npm are required: the
test fails, not skips, without them (CI installs Node 20).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.reports.models import Report
from tests.clients.factories import make_client
from tests.conftest import JWT_SECRET
from tests.support.server import Server, server_env
from tests.support.sms_inbox import sms_gateway

HERE = Path(__file__).resolve().parent
OPENAPI = HERE.parents[1] / "openapi" / "openapi.json"
LOCK = HERE / "package-lock.json"
_ANY = re.compile(r"\bany\b")
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is required for the TypeScript client test (install Node.js 20 and npm)")
    return found


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _node_modules() -> Path:
    """`npm ci` of the committed lock file, once per lock file, into the cache. Under an exclusive lock: CI runs the
    suite on SQLite and on PostgreSQL at once, and on a machine with no cache yet both runs' `npm ci` emptied and
    filled the same directory together (ENOTEMPTY, a missing .bin/openapi-typescript). A marker written after a
    complete install tells the next run the cache is whole."""
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:16]
    root = Path(os.environ.get("WEILINLI_TSCLIENT_CACHE", Path.home() / ".cache" / "weilinli-tsclient")) / digest
    root.mkdir(parents=True, exist_ok=True)
    done = root / ".installed"
    with open(root.with_name(root.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copy(HERE / name, root / name)
            _run([_tool("npm"), "ci", "--no-audit", "--no-fund"], cwd=root)
            done.touch()
    return root / "node_modules"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    node = _tool("node")
    work = tmp_path_factory.mktemp("tsclient")
    shutil.copytree(HERE / "src", work / "src")
    for name in ("package.json", "tsconfig.json"):
        shutil.copy(HERE / name, work / name)
    (work / "node_modules").symlink_to(_node_modules(), target_is_directory=True)
    (work / "build").mkdir()
    bin_ = work / "node_modules" / ".bin"
    _run([node, str(bin_ / "openapi-typescript"), str(OPENAPI), "--default-non-nullable=false",
          "-o", str(work / "build" / "schema.d.ts")], cwd=work)
    _run([node, str(bin_ / "tsc"), "-p", "tsconfig.json", "--strict", "--noImplicitAny"], cwd=work)
    return work


def test_the_journey_and_the_generated_types_have_no_any(built: Path):
    for path in (built / "src" / "journey.ts", built / "build" / "schema.d.ts"):
        code = _COMMENTS.sub("", path.read_text(encoding="utf-8"))
        assert not _ANY.search(code), f"`any` in {path.name}: {_ANY.findall(code)[:3]}"
    assert (built / "build" / "js" / "src" / "journey.js").exists()


def _journey(built: Path, api_url: str, inbox_url: str, world, client_id: str) -> str:
    return _run([_tool("node"), str(built / "build" / "js" / "src" / "journey.js")], cwd=built, timeout=120, env={
        **os.environ, "API_URL": api_url, "SMS_INBOX_URL": inbox_url, "CLIENT_ID": client_id,
        "RESIDENT_PHONE": world.users["resident_a"].phone,
        "CATEGORY_ID": str(world.cat.id), "DEPARTMENT_ID": str(world.d1.id),
        "WORKER_TOKEN": world.headers("worker_in")["Authorization"].split(" ", 1)[1],
        "DEPARTMENT_TOKEN": world.headers("dept_in")["Authorization"].split(" ", 1)[1],
    })


async def test_a_resident_journey_through_the_typed_client(built: Path, app, world, settings, tmp_path: Path):
    async with app.state.db.session(write=True) as s:  # the mini-program, registered by the community
        mini_program, _ = await make_client(s, world.c1.id, scopes=["reports:read", "reports:write"])
    with sms_gateway() as gateway:
        env = server_env(settings.database_url, JWT_SECRET, tmp_path / "uploads",
                         extra={"SMS_PROVIDER_URL": gateway + "/sms/send", "SMS_SENDER": "http"})
        with Server(env, module="app.main:app", log_path=tmp_path / "server.log") as server:
            out = _journey(built, server.base_url, gateway + "/inbox", world, mini_program.client_id)
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["state"] == "closed" and seen["rating"] == 5
    assert sorted(seen["replayed"]) == [False, True]  # the retry answered the first's response
    assert seen["timeline"] == ["submitted", "accepted", "dispatched", "in_progress", "resolved"]
    assert len(seen["photo_ids"]) == 1
    async with app.state.db.session(write=False) as s:
        reports = (await s.execute(select(func.count()).select_from(Report))).scalar_one()
        state = (await s.execute(select(Report.state).where(Report.id == seen["report_id"]))).scalar_one()
    assert reports == 1 and state == "closed"
