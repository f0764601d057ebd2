"""The SQL each endpoint runs, captured from the real server (bench/app.py, WEILINLI_BENCH_CAPTURE=1), counted per
request, and on PostgreSQL each SELECT run again under `EXPLAIN (ANALYZE, BUFFERS)`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bench.load import Req


@dataclass
class Statement:
    sql: str
    params: list[Any]
    ms: float | None = None          # execution time under EXPLAIN ANALYZE (PostgreSQL)
    plan: str | None = None


@dataclass
class Capture:
    scenario: str
    status: int
    statements: list[Statement] = field(default_factory=list)

    @property
    def slowest(self) -> Statement | None:
        timed = [s for s in self.statements if s.ms is not None]
        return max(timed, key=lambda s: s.ms) if timed else None


def _send(client: httpx.Client, r: Req, key: str) -> int:
    headers = {"X-Bench-Capture": key}
    if r.token:
        headers["Authorization"] = f"Bearer {r.token}"
    if r.content_type:
        headers["Content-Type"] = r.content_type
    return client.request(r.method, r.path, headers=headers, content=r.body.encode() if r.body else None).status_code


def capture(base_url: str, requests: dict[str, list[Req]]) -> dict[str, Capture]:
    """Send each scenario's requests (the last one is the one kept: earlier ones warm the connection), return the
    statements of the kept one."""
    out: dict[str, Capture] = {}
    with httpx.Client(base_url=base_url, timeout=60) as client:
        client.post("/bench/capture").raise_for_status()
        statuses = {}
        for name, reqs in requests.items():
            for i, r in enumerate(reqs):
                statuses[name] = _send(client, r, f"{name}#{i}")
        data = client.get("/bench/capture").json()
    for name, reqs in requests.items():
        kept = data.get(f"{name}#{len(reqs) - 1}", [])
        out[name] = Capture(name, statuses[name], [Statement(s, p) for s, p in kept])
    return out


def _param(v: Any) -> Any:
    if isinstance(v, dict) and "__datetime__" in v:
        return datetime.fromisoformat(v["__datetime__"])
    return v


async def explain_postgresql(dsn: str, captures: dict[str, Capture]) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        for cap in captures.values():
            for st in cap.statements:
                if not st.sql.lstrip().upper().startswith("SELECT"):
                    continue
                args = [_param(p) for p in st.params]
                try:
                    for _ in range(2):  # the second run is the warm one
                        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + st.sql, *args)
                    doc = rows[0][0]
                    doc = json.loads(doc) if isinstance(doc, str) else doc
                    st.ms = float(doc[0]["Execution Time"]) + float(doc[0].get("Planning Time", 0.0))
                    text_rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + st.sql, *args)
                    st.plan = "\n".join(r[0] for r in text_rows)
                except (asyncpg.PostgresError, ValueError, TypeError) as exc:
                    st.plan = f"(EXPLAIN failed: {exc})"
    finally:
        await conn.close()
