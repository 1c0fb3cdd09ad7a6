"""Limits kept in the real Redis, shared by every process: here, the long-poll slots."""

from __future__ import annotations

import asyncio
import time

import pytest
from django.conf import settings

from inbox import rate_limits
from inbox.redis_clients import sync_client

pytestmark = pytest.mark.asyncio

VISITOR = {"schema_name": "ws_rate_test", "contact_id": 1}


@pytest.fixture(autouse=True)
def _no_slots(settings):
    settings.PARLEY_POLLS_PER_VISITOR = 1
    redis = sync_client()
    for key in redis.scan_iter(f"{settings.REDIS_KEY_PREFIX}:polls:*"):
        redis.delete(key)


def _held(ip: str) -> int:
    return sync_client().zcard(f"{settings.REDIS_KEY_PREFIX}:polls:ip:{ip}")


async def test_a_poll_cancelled_mid_wait_gives_its_slot_back():
    entered = asyncio.Event()

    async def poll():
        async with rate_limits.poll_slot(**VISITOR, ip="10.0.0.1", lifetime=60):
            entered.set()
            await asyncio.sleep(60)

    task = asyncio.ensure_future(poll())
    await entered.wait()
    with pytest.raises(rate_limits.TooManyPolls, match=r"this visitor \(at most 1 at once\)"):
        async with rate_limits.poll_slot(**VISITOR, ip="10.0.0.2", lifetime=60):
            pass
    assert _held("10.0.0.2") == 0  # a refused poll takes nothing from its address either
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert _held("10.0.0.1") == 0
    async with rate_limits.poll_slot(**VISITOR, ip="10.0.0.2", lifetime=60):
        assert _held("10.0.0.2") == 1


async def test_a_slot_never_given_back_lapses_after_its_lifetime():
    # A process that dies mid-poll runs no finally: enter the block and never leave it.
    dead = rate_limits.poll_slot(**VISITOR, ip="10.0.0.3", lifetime=1)
    await dead.__aenter__()
    with pytest.raises(rate_limits.TooManyPolls):
        async with rate_limits.poll_slot(**VISITOR, ip="10.0.0.3", lifetime=1):
            pass
    deadline = time.monotonic() + 10
    while True:
        try:
            async with rate_limits.poll_slot(**VISITOR, ip="10.0.0.3", lifetime=1):
                break
        except rate_limits.TooManyPolls:
            assert time.monotonic() < deadline, "the dead poll's slot never lapsed"
            await asyncio.sleep(0.1)
