"""Sample the server with py-spy while wrk drives one scenario, and summarise where the time goes.

py-spy writes collapsed stacks (`frame;frame;frame count`, one line per distinct stack; speedscope.app opens
them); the summary counts, per function, the samples in which it is on the stack (inclusive) and on top (self),
and per library the self samples.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    exe = Path(sys.executable).with_name("py-spy")
    return str(exe) if exe.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, out: Path, rate: int = 200) -> subprocess.Popen:
    """Start py-spy on the server (and its workers) in the background; wait() on the result."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy not found: pip install py-spy")
    cmd = [exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(rate), "--format", "raw",
           "--output", str(out), "--nonblocking", "--subprocesses", "--full-filenames"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _where(file: str) -> str:
    parts = file.replace("\\", "/").split("/")
    for marker in ("site-packages", "lib"):
        if marker in parts:
            i = len(parts) - 1 - parts[::-1].index(marker)
            rest = parts[i + 1:]
            if rest and marker == "site-packages":
                return rest[0]
            if rest and marker == "lib" and rest[0].startswith("python"):
                return "stdlib:" + (rest[1] if len(rest) > 1 else "?").removesuffix(".py")
    for i, p in enumerate(parts):
        if p in ("app", "bench") and i + 1 < len(parts):
            return "/".join(parts[i:i + 2]).removesuffix(".py")
    return parts[-1]


def _short(frame: str) -> tuple[str, str]:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame, "?"
    file = m.group("file")
    where = _where(file)
    return f"{m.group('func')} ({where})", where


@dataclass
class Summary:
    samples: int = 0
    by_library: list[tuple[str, float]] = field(default_factory=list)       # self share per library
    top_self: list[tuple[str, float]] = field(default_factory=list)
    top_inclusive: list[tuple[str, float]] = field(default_factory=list)
    app_inclusive: list[tuple[str, float]] = field(default_factory=list)    # frames of app/ only


def summarise(path: Path, top: int = 12) -> Summary:
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    libs: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += n
        seen = set()
        for f in frames:
            name, _ = _short(f)
            if name not in seen:
                inclusive[name] += n
                seen.add(name)
        name, lib = _short(frames[-1])
        self_[name] += n
        libs[lib] += n
    s = Summary(samples=total)
    if not total:
        return s
    pct = lambda c: [(k, 100.0 * v / total) for k, v in c.most_common(top)]  # noqa: E731
    s.by_library = pct(libs)
    s.top_self = pct(self_)
    skip = ("<module>", "run (", "_run (", "run_forever", "run_until_complete", "_run_once", "serve (",
            "__call__ (uvicorn", "run_asgi", "main (", "_main (", "startup (", "wrapper (")
    s.top_inclusive = [(k, v) for k, v in pct(Counter({k: v for k, v in inclusive.items()
                                                       if not k.startswith(skip)}))][:top]
    s.app_inclusive = pct(Counter({k: v for k, v in inclusive.items() if "(app/" in k}))
    return s
