"""channels-redis with a bounded pool that waits: redis-py's default pool raises MaxConnectionsError
once 100 connections are in use, and a busy server has more consumers than that talking to Redis."""

from __future__ import annotations

import redis.asyncio as aioredis
from channels_redis.core import RedisChannelLayer


class WaitingRedisChannelLayer(RedisChannelLayer):
    def __init__(self, *args, max_connections: int = 200, pool_timeout: float = 10, **kwargs) -> None:
        self.max_connections, self.pool_timeout = max_connections, pool_timeout
        super().__init__(*args, **kwargs)

    def create_pool(self, index: int) -> aioredis.BlockingConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return aioredis.BlockingConnectionPool.from_url(
            address, max_connections=self.max_connections, timeout=self.pool_timeout, **host
        )
