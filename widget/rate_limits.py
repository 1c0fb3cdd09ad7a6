"""Fixed-window counters in Redis, shared by every server process, taken in small leases.

A process that needs a token takes a lease of several from Redis at once (INCRBY) and spends them
locally, so the busiest path, a visitor's message, reaches Redis once every few messages instead of
every time. Leases never let a bucket past its limit across processes: a token is counted in Redis
before it is spent. What a process leased and did not spend is lost at the window's end, so a
visitor whose tabs sit on several processes may be held a few tokens short of the limit, never over.

Long-polls are limited by how many wait at once, not per minute: `poll_slot` holds a slot in Redis
for as long as a poll lasts (see there).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import time
import weakref
from collections.abc import AsyncIterator

from django.conf import settings

from inbox.redis_clients import async_client, close_async_client, sync_client

WINDOW_SECONDS = 60
LEASE_MAX = 10  # tokens taken at once; at most limit // 10, so a lease is a small share of a limit


class _Leases:
    """One event loop's Redis client, and its unspent tokens per bucket in the current window.

    Leases are taken in batches: every bucket that needs one while the loop goes round waits for the
    same pipeline (the first message of 500 new visitors is one round trip to Redis, not 500)."""

    def __init__(self) -> None:
        self.redis = async_client()
        self.window = 0
        self.tokens: dict[str, int] = {}
        self.exhausted: set[str] = set()  # past the limit until the window turns
        self.leasing: dict[str, asyncio.Future] = {}  # the lease on its way for a bucket, if any
        self.batch: list[tuple[str, int]] | None = None  # buckets for the next pipeline
        self.batch_done: asyncio.Future | None = None
        self.batches: set[asyncio.Task] = set()  # held until done

    def lease_soon(self, buckets: list[tuple[str, int]]) -> asyncio.Future:
        """Lease `buckets` (none of them leasing yet) in the loop's next batch; its future is done
        when the tokens are in, or holds what went wrong."""
        if self.batch is None:
            self.batch, self.batch_done = [], asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._lease_batch())
            self.batches.add(task)
            task.add_done_callback(self.batches.discard)
        self.batch.extend(buckets)
        for bucket, _ in buckets:
            self.leasing[bucket] = self.batch_done
        return self.batch_done

    def refill_ahead(self, buckets: tuple[tuple[str, int], ...]) -> None:
        """Lease again in the background once a bucket is down to half a lease: with one address's
        visitors all spending its bucket, everyone used to stop for a round trip to Redis whenever it
        ran dry (the slowest 1 % of messages spent 10 ms here)."""
        low = [
            (bucket, limit)
            for bucket, limit in buckets
            if bucket not in self.leasing
            and bucket not in self.exhausted
            and self.tokens.get(bucket, 0) <= _lease_size(limit) // 2
        ]
        if low:
            self.lease_soon(low)

    def turn_to(self, window: int) -> None:
        if window != self.window:
            self.window, self.tokens, self.exhausted = window, {}, set()

    async def _lease_batch(self) -> None:
        buckets, done = self.batch, self.batch_done
        self.batch = self.batch_done = None  # what asks from now on goes in the next batch
        window = self.window
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for bucket, limit in buckets:
                    key = _window_key(bucket, window)
                    pipe.incrby(key, _lease_size(limit))
                    pipe.expire(key, WINDOW_SECONDS + 1)
                replies = await pipe.execute()
            if self.window == window:  # else the minute turned meanwhile: ask again in the new one
                for (bucket, limit), total in zip(buckets, replies[::2], strict=True):
                    lease = _lease_size(limit)
                    granted = max(0, min(lease, limit - (total - lease)))  # counted at or under the limit
                    self.tokens[bucket] = self.tokens.get(bucket, 0) + granted
                    if not granted:
                        self.exhausted.add(bucket)
        except Exception as exc:
            # Redis away: whoever waits for this batch raises it; a refill nobody waits for is dropped.
            done.set_exception(exc)
            done.exception()
        finally:
            for bucket, _ in buckets:
                if self.leasing.get(bucket) is done:
                    del self.leasing[bucket]
            if not done.done():
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
        short = [(bucket, limit) for bucket, limit in buckets if state.tokens.get(bucket, 0) <= 0]
        if any(bucket in state.exhausted for bucket, _ in short):
            return False  # tokens leased before the bucket ran out are still spent, above
        if not short:
            for bucket, _ in buckets:
                state.tokens[bucket] -= 1
            state.refill_ahead(buckets)
            return True
        # Others spend this loop's tokens while a lease is on its way: look again after it.
        on_their_way = {state.leasing[bucket] for bucket, _ in short if bucket in state.leasing}
        if to_lease := [(bucket, limit) for bucket, limit in short if bucket not in state.leasing]:
            on_their_way.add(state.lease_soon(to_lease))
        await asyncio.wait(on_their_way)
        for lease in on_their_way:
            if lease.exception() is not None:
                raise lease.exception()


async def allow_connect(ip: str) -> bool:
    return await hit((f"connect:ip:{ip}", settings.PARLEY_RATE_IP_CONNECTS))


async def allow_message(*, schema_name: str, contact_id: int, ip: str) -> bool:
    return await hit(
        (f"msg:visitor:{schema_name}:{contact_id}", settings.PARLEY_RATE_VISITOR_MESSAGES),
        (f"msg:ip:{ip}", settings.PARLEY_RATE_IP_MESSAGES),
    )


# --- Concurrent long-polls

# Each key is a sorted set of the slots held, scored by when each lapses: a process that dies mid-poll
# never gives its slot back, so a slot lapses by itself after its lifetime (a plain counter would
# stay one too high for as long as anyone kept it busy). Both keys are checked and taken in one
# script, so two processes cannot each take the last slot.
_POLL_SLOT_SCRIPT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local lifetime = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', t)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then return i end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, t + lifetime, ARGV[1])
  redis.call('EXPIRE', key, math.ceil(lifetime) + 1)
end
return 0
"""


class TooManyPolls(Exception):
    """A visitor, or an address, already has as many long-polls waiting as it may."""


@contextlib.asynccontextmanager
async def poll_slot(*, schema_name: str, contact_id: int, ip: str, lifetime: float) -> AsyncIterator[None]:
    """Hold one of the visitor's and one of the address's long-poll slots while the block runs; raise
    TooManyPolls at once if either has none free. `lifetime` outlasts the longest poll."""
    redis = async_client()
    keys = [
        f"{settings.REDIS_KEY_PREFIX}:polls:visitor:{schema_name}:{contact_id}",
        f"{settings.REDIS_KEY_PREFIX}:polls:ip:{ip}",
    ]
    slot = secrets.token_hex(8)
    full = await redis.eval(
        _POLL_SLOT_SCRIPT, len(keys), *keys, slot, lifetime,
        settings.PARLEY_POLLS_PER_VISITOR, settings.PARLEY_POLLS_PER_IP,
    )  # fmt: skip
    if full == 1:
        raise TooManyPolls(
            f"Too many polls waiting for this visitor (at most {settings.PARLEY_POLLS_PER_VISITOR} at once): "
            "let one end before starting another."
        )
    if full == 2:
        raise TooManyPolls(
            f"Too many polls waiting from this address (at most {settings.PARLEY_POLLS_PER_IP} at once)."
        )
    try:
        yield
    finally:
        # Shielded: a poll ended by its client's disconnect (cancelled) still gives its slot back.
        await asyncio.shield(_poll_slot_release(redis, keys, slot))


async def _poll_slot_release(redis, keys: list[str], slot: str) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.zrem(key, slot)
        await pipe.execute()


async def close() -> None:
    """Drop this loop's leases and Redis client (tests, whose loops end with each test)."""
    _leases.pop(asyncio.get_running_loop(), None)
    await close_async_client()
