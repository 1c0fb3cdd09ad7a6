"""Limits kept in the real Redis, shared by every process: here, the long-poll slots."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis
import redis.asyncio
from django.conf import settings

from inbox.redis_clients import sync_client
from widget import rate_limits

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


async def test_leased_tokens_never_let_two_processes_past_the_limit(monkeypatch):
    # Two event loops' worth of leases (as two server processes hold) against one Redis counter.
    from widget import rate_limits
    from widget.rate_limits import _Leases, _leases, hit

    monkeypatch.setattr(rate_limits, "_current_window", lambda: 123)  # no minute turns mid-test
    loop = asyncio.get_running_loop()
    allowed, unspent = 0, 0
    for _process in range(2):
        state = _leases[loop] = _Leases()  # a process of its own: no tokens leased yet
        allowed += sum([await hit(("msg:visitor:lease-test", 25)) for _ in range(20)])
        await asyncio.gather(*state.batches)
        unspent += state.tokens.get("msg:visitor:lease-test", 0)
        _leases.pop(loop)
    # Leases of 2: the first process spends 20 and holds what it leased ahead; the second gets the
    # rest. Every token is counted in Redis before it is spent, so never more than 25 between them.
    assert allowed + unspent == 25 and allowed >= 25 - 2 * 2


async def test_the_first_messages_of_many_visitors_lease_their_buckets_in_one_round_trip(monkeypatch):
    from widget import rate_limits

    monkeypatch.setattr(rate_limits, "_current_window", lambda: 790)
    prefix = uuid.uuid4().hex
    hits = [
        asyncio.create_task(rate_limits.hit((f"{prefix}:{i}", 30), (f"{prefix}:ip", 10_000)))
        for i in range(300)
    ]
    await asyncio.sleep(0)  # each has asked for what it needs
    state = rate_limits._leases[asyncio.get_running_loop()]
    assert len(set(state.leasing.values())) == 1  # one pipeline for all 301 buckets
    assert all(await asyncio.gather(*hits))


async def test_a_lease_redis_cannot_answer_fails_the_messages_waiting_for_it(monkeypatch):
    from widget import rate_limits

    monkeypatch.setattr(rate_limits, "_current_window", lambda: 791)
    state = rate_limits._leases[asyncio.get_running_loop()] = rate_limits._Leases()
    monkeypatch.setattr(state, "redis", redis.asyncio.Redis.from_url("redis://127.0.0.1:1"))  # nobody there
    with pytest.raises(redis.exceptions.ConnectionError):
        await rate_limits.hit((f"{uuid.uuid4().hex}:down", 30))
    assert not state.leasing  # and the next message asks again


def _completes_at_once(coroutine):
    """The value of `coroutine` if it finishes without waiting for anything (no round trip)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("it waited")


async def test_a_steady_sender_never_waits_for_a_lease_after_the_first(monkeypatch):
    # A bucket down to half a lease is refilled in the background: the sockets spending it (one
    # address's visitors, say) do not all stop for a round trip to Redis each time it runs dry.
    from widget import rate_limits

    monkeypatch.setattr(rate_limits, "_current_window", lambda: 789)
    bucket = ("steady:ip:" + uuid.uuid4().hex, 1000)
    assert await rate_limits.hit(bucket)  # the first lease is waited for
    state = rate_limits._leases[asyncio.get_running_loop()]
    for _ in range(95):  # ten leases' worth
        assert _completes_at_once(rate_limits.hit(bucket)) is True
        await asyncio.gather(*state.batches)  # the lease taken ahead arrives between messages
    # ...and never past the limit: what it leased ahead is counted in Redis.
    later = await asyncio.gather(*[rate_limits.hit(bucket) for _ in range(1000)])
    assert later.count(True) == 1000 - 96


async def test_sockets_racing_for_a_shared_bucket_are_not_refused_under_its_limit(monkeypatch):
    # 300 visitors behind one address write at once: their own buckets need leases while the
    # address's tokens run out under them. Nobody is refused while the address is under its limit.
    from widget import rate_limits

    monkeypatch.setattr(rate_limits, "_current_window", lambda: 456)
    hits = [rate_limits.hit((f"race:visitor:{i}", 30), ("race:ip", 1000)) for i in range(300)]
    assert all(await asyncio.gather(*hits))
    over = [rate_limits.hit((f"race:visitor:{i}", 30), ("race:ip", 1000)) for i in range(300, 1100)]
    assert sum(await asyncio.gather(*over)) == 700  # then exactly up to the address's limit
