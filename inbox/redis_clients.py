"""Redis clients for our own keys (rate limits, presence); the channel layer keeps its own."""

from __future__ import annotations

import asyncio
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

# redis.asyncio clients belong to the event loop that made them.
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)
_sync_client: redis.Redis | None = None


def async_client() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        # A pool that waits when busy: the default one fails once 100 connections are in use.
        pool = aioredis.BlockingConnectionPool.from_url(settings.REDIS_URL, max_connections=100, timeout=10)
        client = _async_clients[loop] = aioredis.Redis(connection_pool=pool)
    return client


def sync_client() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis(
            connection_pool=redis.BlockingConnectionPool.from_url(
                settings.REDIS_URL, max_connections=20, timeout=10
            )
        )
    return _sync_client


async def close_async_client() -> None:
    """Close this loop's client (tests, whose loops end with each test)."""
    client = _async_clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()
