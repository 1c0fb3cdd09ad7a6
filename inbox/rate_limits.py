"""Fixed-window counters in Redis, shared by every server process."""

from __future__ import annotations

import asyncio
import time
import weakref

import redis.asyncio as aioredis
from django.conf import settings

# redis.asyncio clients belong to the event loop that made them.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


def _client() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        # A pool that waits when busy: the default one fails once 100 connections are in use.
        pool = aioredis.BlockingConnectionPool.from_url(settings.REDIS_URL, max_connections=100, timeout=10)
        client = _clients[loop] = aioredis.Redis(connection_pool=pool)
    return client


async def hit(*buckets: tuple[str, int], per_seconds: int = 60) -> bool:
    """Count one event in each (bucket, limit); False if any is past its limit in this window.
    One round trip to Redis, however many buckets."""
    window = int(time.time() // per_seconds)
    async with _client().pipeline(transaction=False) as pipe:
        for bucket, _ in buckets:
            key = f"{settings.REDIS_KEY_PREFIX}:rate:{bucket}:{window}"
            pipe.incr(key)
            pipe.expire(key, per_seconds + 1)
        results = await pipe.execute()
    return all(count <= limit for count, (_, limit) in zip(results[::2], buckets, strict=True))


async def allow_connect(ip: str) -> bool:
    return await hit((f"connect:ip:{ip}", settings.PARLEY_RATE_IP_CONNECTS))


async def allow_message(*, schema_name: str, contact_id: int, ip: str) -> bool:
    return await hit(
        (f"msg:visitor:{schema_name}:{contact_id}", settings.PARLEY_RATE_VISITOR_MESSAGES),
        (f"msg:ip:{ip}", settings.PARLEY_RATE_IP_MESSAGES),
    )
