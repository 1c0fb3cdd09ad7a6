"""group_send_many against the real Redis: what channels-redis's receive gets must be what its own
group_send would have queued, once per channel, never to the excluded sender."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from django.conf import settings

from config.channel_layer import WaitingRedisChannelLayer

pytestmark = pytest.mark.asyncio

EVENT = {
    "type": "message.created",
    "message": {"id": 7, "prev_id": None, "body": "héllo", "ok": True, "x": 2.5},
}


def _layer(**config) -> WaitingRedisChannelLayer:
    # A prefix of its own per test: nothing left by another test is read here.
    return WaitingRedisChannelLayer(
        hosts=[{"address": settings.REDIS_URL}], prefix=f"test-{uuid.uuid4().hex[:8]}", **config
    )


async def _nothing_for(layer, channel: str) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), 0.3)
    except TimeoutError:
        return True
    return False


@pytest.mark.parametrize("config", [{}, {"channel_capacity": {"other.*": 5}}], ids=["script", "fallback"])
async def test_each_member_of_any_group_gets_the_event_once_and_the_sender_none(config):
    layer = _layer(**config)
    assert layer.scripted_group_send is not bool(config)
    sender, both, local_peer = [await layer.new_channel() for _ in range(3)]
    plain = "plain.listener"  # a channel of no process: a queue of its own
    for channel in (sender, both, local_peer, plain):
        await layer.group_add("visitor", channel)
    await layer.group_add("agents", both)

    await layer.group_send_many(["visitor", "agents"], EVENT, exclude=[sender])

    for channel in (both, local_peer, plain):
        assert await asyncio.wait_for(layer.receive(channel), 2) == EVENT
    if layer.scripted_group_send:
        assert await _nothing_for(layer, sender)
        assert await _nothing_for(layer, both)  # in two groups, one copy
    await layer.flush()
    await layer.close_pools()


async def test_a_full_queue_is_counted_not_grown():
    layer = _layer(capacity=2)
    channel = await layer.new_channel()
    await layer.group_add("agents", channel)
    sent = [await layer.group_send_many(["agents"], {"type": "n", "n": n}) for n in range(3)]
    assert sent == [1, 1, 0]
    assert [(await layer.receive(channel))["n"] for _ in range(2)] == [0, 1]
    assert await _nothing_for(layer, channel)
    await layer.flush()
    await layer.close_pools()
