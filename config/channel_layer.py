"""channels-redis, tuned for Parley's pushes.

- A bounded pool that waits: redis-py's default pool raises MaxConnectionsError once 100 connections
  are in use, and a busy server has more consumers than that talking to Redis.
- `group_send_many`: one event to the members of several groups in one round trip to Redis (a script
  that reads the groups and fills the members' queues). channels-redis's group_send costs four round
  trips per group (prune, list members, prune each member's queue, then an EVAL that ships the script
  text every time), and every visitor message goes to two groups.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable

import msgpack
import redis.asyncio as aioredis
from channels_redis.core import RedisChannelLayer
from channels_redis.serializers import MsgPackSerializer

logger = logging.getLogger(__name__)

# Builds, for each member queue, exactly what channels-redis's group_send would store there: a
# 12-byte unique prefix, then the msgpack map of the event plus "__asgi_channel__" (the list of the
# process-local channels sharing that queue). The map's head comes packed from Python; the script
# appends the list. Standalone Redis only (it touches keys it reads from the groups).
_GROUP_SEND_LUA = """
local now, group_expiry, expiry = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local capacity, prefix, head, nonce = tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
local seen = {}
for i = 8, #ARGV do seen[ARGV[i]] = true end  -- excluded
local queues, members = {}, {}
for _, group_key in ipairs(KEYS) do
    redis.call('ZREMRANGEBYSCORE', group_key, 0, math.floor(now) - group_expiry)
    for _, channel in ipairs(redis.call('ZRANGE', group_key, 0, -1)) do
        if not seen[channel] then  -- once, however many of the groups it is in
            seen[channel] = true
            local bang = string.find(channel, '!', 1, true)
            local queue = prefix .. (bang and string.sub(channel, 1, bang) or channel)
            if not members[queue] then members[queue] = {}; queues[#queues + 1] = queue end
            table.insert(members[queue], channel)
        end
    end
end
local function packed_str(s)
    local n = #s
    if n < 32 then return string.char(0xa0 + n) .. s end
    if n < 256 then return '\\217' .. string.char(n) .. s end
    return '\\218' .. string.char(math.floor(n / 256), n % 256) .. s
end
local sent, over_capacity = 0, 0
for i, queue in ipairs(queues) do
    local channels = members[queue]
    local n = #channels
    local parts = {nonce, string.char(math.floor(i / 256) % 256, i % 256), head}
    if n < 16 then
        parts[#parts + 1] = string.char(0x90 + n)
    else
        parts[#parts + 1] = '\\220' .. string.char(math.floor(n / 256), n % 256)
    end
    for _, channel in ipairs(channels) do parts[#parts + 1] = packed_str(channel) end
    redis.call('ZREMRANGEBYSCORE', queue, 0, math.floor(now) - expiry)
    if redis.call('ZCARD', queue) < capacity then
        redis.call('ZADD', queue, now, table.concat(parts))
        redis.call('EXPIRE', queue, expiry)
        sent = sent + n
    else
        over_capacity = over_capacity + n
    end
end
return {sent, over_capacity}
"""


class WaitingRedisChannelLayer(RedisChannelLayer):
    def __init__(self, *args, max_connections: int = 200, pool_timeout: float = 10, **kwargs) -> None:
        self.max_connections, self.pool_timeout = max_connections, pool_timeout
        super().__init__(*args, **kwargs)
        serializer = self._serializer
        # The script writes channels-redis's format itself, so only where that format is the default.
        self.scripted_group_send = (
            len(self.hosts) == 1
            and not self.channel_capacity
            and isinstance(serializer, MsgPackSerializer)
            and serializer.crypter is None
            and serializer.random_prefix_length == 12
        )

    def create_pool(self, index: int) -> aioredis.BlockingConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return aioredis.BlockingConnectionPool.from_url(
            address, max_connections=self.max_connections, timeout=self.pool_timeout, **host
        )

    async def group_send_many(
        self, groups: Iterable[str], message: dict, *, exclude: Iterable[str] = ()
    ) -> int:
        """Send `message` once to every channel in any of `groups`, except those in `exclude` (the
        sender, which has its answer already). Returns how many channels it was queued for."""
        groups = list(groups)
        for group in groups:
            assert self.require_valid_group_name(group), "Group name not valid"
        if not self.scripted_group_send:  # channels-redis's own way, group by group
            for group in groups:
                await self.group_send(group, message)
            return -1
        assert "__asgi_channel__" not in message
        head = msgpack.Packer().pack_map_header(len(message) + 1)
        head += b"".join(msgpack.packb(key) + msgpack.packb(value) for key, value in message.items())
        head += msgpack.packb("__asgi_channel__")
        connection = self.connection(0)
        script = getattr(connection, "_parley_group_send", None)
        if script is None:  # EVALSHA from then on; a script object belongs to its loop's client
            script = connection._parley_group_send = connection.register_script(_GROUP_SEND_LUA)
        args = [time.time(), self.group_expiry, self.expiry, self.capacity, self.prefix, head, os.urandom(10)]
        sent, over_capacity = await script(keys=[self._group_key(g) for g in groups], args=[*args, *exclude])
        if over_capacity:
            logger.info("%s channels over capacity in %s", over_capacity, groups)
        return sent
