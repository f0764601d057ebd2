"""Start and stop the service as users run it: uvicorn in its own process, on 127.0.0.1, production settings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]  # the repository


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, jwt_secret: str, upload_dir: Path, *, extra: dict[str, str] | None = None,
               production: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_", "DB_", "JWT_", "WEILINLI_", "TEST_DATABASE"))}
    env.update({
        "WEILINLI_ENV": "production" if production else "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET": jwt_secret,
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "true",
        "DOCS_ENABLED": "true",  # the runner reads /openapi.json to know which routes this build has
        "UPLOAD_DIR": str(upload_dir),
        "PYTHONPATH": str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
        "PYTHONDONTWRITEBYTECODE": "1",
        # benchmarks drive many writes from few users: no request-rate limits unless a test turns them on (issue 18)
        "RATE_LIMITS_ENABLED": "false",
    })
    env.update(extra or {})
    return env


class Server:
    """`python -m uvicorn <module> --workers N --no-access-log` on a free port; `stop()` always ends it."""

    def __init__(self, env: dict[str, str], *, module: str = "bench.app:app", workers: int = 1,
                 log_path: Path | None = None):
        self.env, self.module, self.workers = env, module, workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 60.0) -> Server:
        cmd = [sys.executable, "-m", "uvicorn", self.module, "--host", "127.0.0.1", "--port", str(self.port),
               "--workers", str(self.workers), "--no-access-log", "--log-level", "warning"]
        self._log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer /healthz within {timeout:.0f}s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL, no goodbye (the crash-safety check)."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the workers too
                self.proc.wait(timeout=10)
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self.proc = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
