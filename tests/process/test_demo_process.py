"""`weilinli demo` as a user runs it: a real process, from an empty folder, stopped by a signal (issue 13, items 2-3).

Every wait is bounded; no timing is asserted beyond "stops within a few seconds".
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.demo import ACCOUNTS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    """Every live descendant of pid (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start_demo(folder: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'demo.db'}", "PASSWORD_TIME_COST": "1",
           "PASSWORD_MEMORY_KIB": "64", "LOG_LEVEL": "WARNING", "WEILINLI_ENV": "development"}
    env.pop("TEST_DATABASE_URL", None)
    cmd = [sys.executable, "-c", "from app.cli import main; main()", "demo", "--port", str(port)]
    return subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_healthy(proc: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    pytest.fail("demo did not answer /healthz within 60 s")


def _stop(proc: subprocess.Popen, sig: signal.Signals) -> str:
    descendants = _children(proc.pid)
    proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"demo still running 10 s after {sig.name}")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(c) for c in descendants):
        time.sleep(0.1)
    assert [c for c in descendants if _alive(c)] == [], f"left behind after {sig.name}"
    return out


def test_demo_from_an_empty_folder_stops_whole_and_says_how_to_log_in_again(tmp_path):
    port = _free_port()
    first = _start_demo(tmp_path, port)
    _wait_healthy(first, port)
    out = _stop(first, signal.SIGTERM)
    assert all(a.phone in out and a.password in out for a in ACCOUNTS), out

    port = _free_port()
    second = _start_demo(tmp_path, port)
    _wait_healthy(second, port)
    out = _stop(second, signal.SIGINT)
    assert "already has its data" in out, out
    assert all(a.phone in out and a.password in out for a in ACCOUNTS), out
