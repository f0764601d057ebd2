"""Who used the CPU during a measurement: the server, PostgreSQL, wrk, and everything else (a test suite run by
someone else on the same 2 cores would distort the numbers; the results say when that happened)."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CLK = os.sysconf("SC_CLK_TCK")


def _proc_times() -> dict[int, tuple[str, float]]:
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1: raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        out[int(d.name)] = (comm, (int(fields[11]) + int(fields[12])) / CLK)
    return out


def _children(pid: int) -> set[int]:
    out = {pid}
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for k in kids:
        out |= _children(int(k))
    return out


@dataclass
class CpuShare:
    seconds: float
    server: float    # cores used on average
    postgres: float
    wrk: float
    other: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 2) for k, v in self.__dict__.items()}


class CpuMonitor:
    """CPU used between start() and stop(), split by who used it (in cores)."""

    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid

    def start(self) -> CpuMonitor:
        self.t0 = time.monotonic()
        self.p0 = _proc_times()
        return self

    def stop(self) -> CpuShare:
        p1 = _proc_times()
        secs = max(1e-6, time.monotonic() - self.t0)
        server = _children(self.server_pid) if self.server_pid else set()
        me = os.getpid()
        buckets = {"server": 0.0, "postgres": 0.0, "wrk": 0.0, "other": 0.0}
        for pid, (comm, t) in p1.items():
            used = t - self.p0.get(pid, (comm, 0.0))[1] if pid in self.p0 else t
            if used <= 0 or pid == me:
                continue
            if pid in server:
                buckets["server"] += used
            elif comm.startswith("postgres"):
                buckets["postgres"] += used
            elif comm == "wrk":
                buckets["wrk"] += used
            else:
                buckets["other"] += used
        return CpuShare(secs, *(buckets[k] / secs for k in ("server", "postgres", "wrk", "other")))


def other_load(seconds: float = 1.0) -> float:
    """Cores used by processes other than PostgreSQL over `seconds` (before a measurement)."""
    m = CpuMonitor(None).start()
    time.sleep(seconds)
    s = m.stop()
    return s.other + s.server + s.wrk


def wait_quiet(max_wait: float, threshold: float = 0.25, log=print) -> float:
    """Wait (up to max_wait seconds) until other processes use less than `threshold` cores; returns the last
    measured load."""
    deadline = time.monotonic() + max_wait
    load = other_load()
    announced = False
    while load > threshold and time.monotonic() < deadline:
        if not announced:
            log(f"    machine busy (other processes use {load:.2f} cores): waiting up to {max_wait:.0f}s")
            announced = True
        time.sleep(2)
        load = other_load()
    return load


def wait_idle(pid: int, max_wait: float = 15.0, threshold: float = 0.1) -> None:
    """Wait until the server has drained what wrk left in flight (its CPU use falls below `threshold` cores)."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        m = CpuMonitor(pid).start()
        time.sleep(0.3)
        if m.stop().server < threshold:
            return


def describe() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[0]
    except (OSError, IndexError):
        wrk = "?"
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": mem, "python": platform.python_version(),
            "kernel": platform.release(), "wrk": wrk.split(" [")[0]}
