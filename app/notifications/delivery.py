"""The worker's webhook job: claim due deliveries, send them signed, record every attempt.

No database transaction is open while a subscriber is called: the claims are committed first (a lease,
`locked_until`), the requests are sent with no connection held, and the results are written in a new transaction
(committed by the runner). A worker killed in between leaves leases that run out; the deliveries are then claimed
again and sent with the same `webhook-id`.

A slow or unreachable subscriber costs at most WEBHOOK_TIMEOUT_SECONDS per attempt, and the batch is sent
concurrently (WEBHOOK_CONCURRENCY at a time), so one bad endpoint never holds up the others for long.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.db.session import begin_write
from app.notifications import outbox, signing, ssrf
from app.notifications.outbox import Claimed, Outcome


async def deliver_webhooks(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """One batch: returns the deliveries claimed (and failed for good after an interrupted last attempt)."""
    exhausted = await outbox.fail_exhausted(db, now, settings)
    claimed = await outbox.claim(db, now, settings)
    await db.commit()  # the leases are ours; from here no transaction is held while we call out
    if not claimed:
        return exhausted
    outcomes = await send_all(claimed, settings)
    # the results in a new write transaction (BEGIN IMMEDIATE on SQLite), committed by the runner
    await begin_write(db)
    for c, o in zip(claimed, outcomes, strict=True):
        await outbox.record(db, c, o, now, settings)
    return exhausted + len(claimed)


async def send_all(claimed: list[Claimed], settings: Settings) -> list[Outcome]:
    """Send a batch, WEBHOOK_CONCURRENCY at a time, each attempt bounded by WEBHOOK_TIMEOUT_SECONDS."""
    gate = asyncio.Semaphore(settings.webhook_concurrency)
    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    limits = httpx.Limits(max_connections=settings.webhook_concurrency, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False, trust_env=False) as client:
        async def one(c: Claimed) -> Outcome:
            async with gate:
                return await send_one(client, c, settings)
        return list(await asyncio.gather(*(one(c) for c in claimed)))


async def send_one(client: httpx.AsyncClient, c: Claimed, settings: Settings) -> Outcome:
    """One signed POST. The host is resolved and checked again now (SSRF), and the request goes to the checked
    address (Host header and TLS server name stay the URL's host). A redirect is a failure: it is not followed."""
    started = datetime.now(UTC)
    clock = time.monotonic()

    def done(**kw) -> Outcome:
        return Outcome(started_at=started, duration_ms=int((time.monotonic() - clock) * 1000), **kw)

    try:
        target = ssrf.parse_url(c.url)
        resolved = await ssrf.resolve_public(target.host, target.port, settings.webhook_allow_private)
    except ssrf.UrlInvalid as exc:
        return done(error=f"invalid URL: {exc}")
    except ssrf.AddressRefused as exc:
        return done(error=f"address refused: {exc.kind}" + (f" ({exc.address})" if exc.address else ""))
    payload = c.body.encode()
    headers = signing.headers(c.secrets, c.message_id, int(time.time()), payload)
    headers["host"] = ssrf.host_header(target)
    literal = resolved.addresses == (target.host,)
    extensions = {"sni_hostname": target.host} if target.scheme == "https" and not literal else {}
    pinned = httpx.URL(c.url).copy_with(host=resolved.addresses[0])
    try:
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            async with client.stream("POST", pinned, content=payload, headers=headers,
                                     extensions=extensions) as resp:
                kept = bytearray()
                async for chunk in resp.aiter_raw():
                    kept += chunk
                    if len(kept) >= outbox.RESPONSE_MAX_BYTES:
                        break
                text = bytes(kept[:outbox.RESPONSE_MAX_BYTES]).decode("utf-8", errors="replace")
                error = f"redirect not followed: {resp.headers.get('location', '')}" \
                    if resp.is_redirect else None
                return done(status_code=resp.status_code, response_body=text, error=error)
    except TimeoutError:
        return done(error=f"timed out after {settings.webhook_timeout_seconds:g} s")
    except (httpx.HTTPError, OSError) as exc:
        return done(error=f"{type(exc).__name__}: {exc}")
