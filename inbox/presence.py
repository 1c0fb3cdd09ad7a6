"""Who is at an inbox right now, in Redis: every open inbox socket of an agent keeps them online
(refreshed by the page's heartbeat, forgotten PRESENCE_TTL seconds after its last one); an agent can
set themselves away. Read by the inbox pages and by auto-assignment."""

from __future__ import annotations

import asyncio
import time
import weakref

from django.conf import settings

from inbox.redis_clients import async_client, sync_client

PRESENCE_TTL = 60  # seconds; the page beats every 25


def _sockets_key(schema_name: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:presence:{schema_name}"


def _away_key(schema_name: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:away:{schema_name}"


async def socket_beat(schema_name: str, user_id: int, channel_name: str) -> None:
    """This socket is open (connect, and every heartbeat)."""
    redis = async_client()
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zadd(_sockets_key(schema_name), {f"{user_id}|{channel_name}": time.time() + PRESENCE_TTL})
        pipe.expire(_sockets_key(schema_name), PRESENCE_TTL * 2)
        await pipe.execute()


async def socket_gone(schema_name: str, user_id: int, channel_name: str) -> None:
    await async_client().zrem(_sockets_key(schema_name), f"{user_id}|{channel_name}")


async def away_set(schema_name: str, user_id: int, away: bool) -> None:
    redis = async_client()
    await (redis.sadd if away else redis.srem)(_away_key(schema_name), str(user_id))


def _queue_reads(pipe, schema_name: str) -> None:
    pipe.zrangebyscore(_sockets_key(schema_name), time.time(), "+inf")
    pipe.smembers(_away_key(schema_name))


def _parse(members: list[bytes], away: set[bytes]) -> tuple[set[int], set[int]]:
    online = {int(member.split(b"|", 1)[0]) for member in members}
    return online, {int(user_id) for user_id in away}


# Reads on their way, per event loop and workspace: whoever asks meanwhile shares the answer (500
# visitors opening conversations at once read presence once, not 500 times).
_reading: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Task]] = (
    weakref.WeakKeyDictionary()
)


async def presence(schema_name: str) -> tuple[set[int], set[int]]:
    """(user ids with an inbox open, user ids set away), as Redis has them now."""
    reading = _reading.setdefault(asyncio.get_running_loop(), {})
    task = reading.get(schema_name)
    if task is None:
        task = reading[schema_name] = asyncio.create_task(_presence_read(schema_name))
        task.add_done_callback(lambda _: reading.pop(schema_name, None))
    online, away = await asyncio.shield(task)  # one asker's cancellation is not everyone's
    return set(online), set(away)


async def _presence_read(schema_name: str) -> tuple[set[int], set[int]]:
    async with async_client().pipeline(transaction=False) as pipe:
        _queue_reads(pipe, schema_name)
        return _parse(*await pipe.execute())


def presence_sync(schema_name: str) -> tuple[set[int], set[int]]:
    """`presence` for synchronous code (services, views)."""
    with sync_client().pipeline(transaction=False) as pipe:
        _queue_reads(pipe, schema_name)
        return _parse(*pipe.execute())
