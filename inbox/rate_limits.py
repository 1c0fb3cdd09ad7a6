"""Fixed-window counters in Redis, shared by every server process, taken in small leases.

A process that needs a token takes a lease of several from Redis at once (INCRBY) and spends them
locally, so the busiest path, a visitor's message, reaches Redis once every few messages instead of
every time. Leases never let a bucket past its limit across processes: a token is counted in Redis
before it is spent. What a process leased and did not spend is lost at the window's end, so a
visitor whose tabs sit on several processes may be held a few tokens short of the limit, never over.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref

from django.conf import settings

from inbox.redis_clients import async_client, close_async_client, sync_client

WINDOW_SECONDS = 60
LEASE_MAX = 10  # tokens taken at once; at most limit // 10, so a lease is a small share of a limit


class _Leases:
    """One event loop's Redis client, and its unspent tokens per bucket in the current window."""

    def __init__(self) -> None:
        self.redis = async_client()
        self.window = 0
        self.tokens: dict[str, int] = {}
        self.exhausted: set[str] = set()  # past the limit until the window turns
        self.leasing: dict[str, asyncio.Future] = {}  # one lease on its way per bucket, at most

    def turn_to(self, window: int) -> None:
        if window != self.window:
            self.window, self.tokens, self.exhausted = window, {}, set()

    async def lease(self, buckets: list[tuple[str, int]]) -> None:
        window = self.window
        done = asyncio.get_running_loop().create_future()
        for bucket, _ in buckets:
            self.leasing[bucket] = done
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for bucket, limit in buckets:
                    key = _window_key(bucket, window)
                    pipe.incrby(key, _lease_size(limit))
                    pipe.expire(key, WINDOW_SECONDS + 1)
                replies = await pipe.execute()
            if self.window != window:
                return  # the minute turned meanwhile; the caller leases again in the new one
            for (bucket, limit), total in zip(buckets, replies[::2], strict=True):
                lease = _lease_size(limit)
                granted = max(0, min(lease, limit - (total - lease)))  # counted at or under the limit
                self.tokens[bucket] = self.tokens.get(bucket, 0) + granted
                if not granted:
                    self.exhausted.add(bucket)
        finally:
            for bucket, _ in buckets:
                if self.leasing.get(bucket) is done:
                    del self.leasing[bucket]
            done.set_result(None)


_leases: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Leases] = weakref.WeakKeyDictionary()


def _current_window() -> int:
    return int(time.time() // WINDOW_SECONDS)


def _window_key(bucket: str, window: int) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:rate:{bucket}:{window}"


def retry_after_sync(bucket: str, limit: int) -> int | None:
    """For a synchronous request: spend one token of `bucket` (one round trip, no lease: a request
    costs far more than it); None while within `limit`, else the seconds until the window turns."""
    window = _current_window()
    pipe = sync_client().pipeline(transaction=False)
    pipe.incr(_window_key(bucket, window))
    pipe.expire(_window_key(bucket, window), WINDOW_SECONDS + 1)
    used, _ = pipe.execute()
    if used <= limit:
        return None
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - time.time()))


def _lease_size(limit: int) -> int:
    return max(1, min(LEASE_MAX, limit // 10))


async def hit(*buckets: tuple[str, int]) -> bool:
    """Spend one token from each (bucket, limit); False if any is past its limit in this window.
    Usually no round trip to Redis; one when a bucket needs a lease, shared by every coroutine of
    the loop that needs that bucket meanwhile (so they do not lease past the limit between them)."""
    loop = asyncio.get_running_loop()
    state = _leases.get(loop)
    if state is None:
        state = _leases[loop] = _Leases()
    while True:
        state.turn_to(_current_window())
        if any(bucket in state.exhausted for bucket, _ in buckets):
            return False
        short = [(bucket, limit) for bucket, limit in buckets if state.tokens.get(bucket, 0) <= 0]
        if not short:
            for bucket, _ in buckets:
                state.tokens[bucket] -= 1
            return True
        # Others spend this loop's tokens while a lease is on its way: look again after it.
        on_their_way = {state.leasing[bucket] for bucket, _ in short if bucket in state.leasing}
        if to_lease := [(bucket, limit) for bucket, limit in short if bucket not in state.leasing]:
            await state.lease(to_lease)
        if on_their_way:
            await asyncio.wait(on_their_way)


async def allow_connect(ip: str) -> bool:
    return await hit((f"connect:ip:{ip}", settings.PARLEY_RATE_IP_CONNECTS))


async def allow_message(*, schema_name: str, contact_id: int, ip: str) -> bool:
    return await hit(
        (f"msg:visitor:{schema_name}:{contact_id}", settings.PARLEY_RATE_VISITOR_MESSAGES),
        (f"msg:ip:{ip}", settings.PARLEY_RATE_IP_MESSAGES),
    )


async def close() -> None:
    """Drop this loop's leases and Redis client (tests, whose loops end with each test)."""
    _leases.pop(asyncio.get_running_loop(), None)
    await close_async_client()
