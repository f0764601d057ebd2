"""Waking live streams when notifications commit: in one process, or across processes through Redis pub/sub.

A message carries only user ids ("something new for these users"), never the notifications: the database stays
the one source of what a stream sends, so a lost, doubled or late wake-up can never lose or repeat an event. A
stream that wakes reads its user's rows after the last id it sent.

`LocalBroker` wakes the streams held by this process. `RedisBroker` publishes on one channel and every process
(each uvicorn worker, each machine) runs one subscriber that wakes its own streams. When its Redis connection
drops, the subscriber reconnects and then wakes every stream it holds, which re-read the database: wake-ups
published while it was away are not lost, only late.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("weilinli.notifications")

CHANNEL = "weilinli:notifications"


class Subscription:
    """One stream's doorbell: `wait` returns True when rung (and re-arms), False on timeout."""

    def __init__(self, broker: LocalBroker, user_id: int):
        self._broker, self.user_id = broker, user_id
        self._event = asyncio.Event()

    def ring(self) -> None:
        self._event.set()

    async def wait(self, within: float) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), within)
        except TimeoutError:
            return False
        self._event.clear()
        return True

    def close(self) -> None:
        self._broker.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class LocalBroker:
    """The streams of this process, by user. `publish` rings them at once."""

    shared = False  # True when other processes' commits reach this process's streams

    def __init__(self) -> None:
        self._subs: dict[int, set[Subscription]] = {}

    def subscribe(self, user_id: int) -> Subscription:
        sub = Subscription(self, user_id)
        self._subs.setdefault(user_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.user_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.user_id]

    def streams_of(self, user_id: int) -> int:
        return len(self._subs.get(user_id, ()))

    def wake(self, user_ids: Iterable[int]) -> None:
        for uid in user_ids:
            for sub in self._subs.get(uid, ()):
                sub.ring()

    def wake_all(self) -> None:
        self.wake(list(self._subs))

    def committed(self, user_ids: Iterable[int]) -> None:
        """Called right after a commit that wrote notifications for `user_ids` (from sync code: no awaiting)."""
        self.wake(user_ids)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisBroker(LocalBroker):
    """Publishes wake-ups on Redis and wakes this process's streams from one subscriber task."""

    shared = True

    def __init__(self, url: str, *, retry: float = 1.0, channel: str = CHANNEL):
        super().__init__()
        import redis.asyncio as aioredis  # only processes configured with REDIS_URL need the package loaded

        self._redis: Any = aioredis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
        self._retry, self._channel = retry, channel
        self._task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()

    def committed(self, user_ids: Iterable[int]) -> None:
        users = sorted(set(user_ids))
        if not users:
            return
        task = asyncio.get_running_loop().create_task(self._publish(users))
        self._sends.add(task)  # keep a reference until done (the loop holds tasks only weakly)
        task.add_done_callback(self._sends.discard)

    async def _publish(self, users: list[int]) -> None:
        try:
            await self._redis.publish(self._channel, json.dumps(users))
        except Exception:  # noqa: BLE001 - Redis down: the local streams still get it; others on reconnect
            log.warning("redis publish failed; waking local streams only", exc_info=True)
            self.wake(users)

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)
        await self._redis.aclose()

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self.wake_all()  # whatever was published while we were not listening is read from the database
                async for message in pubsub.listen():
                    self._on_message(message)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - reconnect after a pause; streams keep their heartbeats meanwhile
                log.warning("redis subscriber lost; reconnecting", exc_info=True)
            finally:
                await pubsub.aclose()
            await asyncio.sleep(self._retry)

    def _on_message(self, message: dict[str, Any]) -> None:
        try:
            users = [int(u) for u in json.loads(message["data"])]
        except (KeyError, TypeError, ValueError):
            log.warning("ignored a malformed wake-up on %s", self._channel)
            return
        self.wake(users)


def make_broker(redis_url: str | None) -> LocalBroker:
    return RedisBroker(redis_url) if redis_url else LocalBroker()
