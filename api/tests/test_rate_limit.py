"""The API's rate limit, on real Redis, with the clock driven through `now`: a client that honours
Retry-After never gets more than the limit in any 60 seconds, and gets the whole limit; Retry-After
is exact; the minute's turn is no boundary."""

from __future__ import annotations

import bisect
import random
import secrets

import pytest
from django.test import override_settings

from api import rate_limit

LIMIT = 5
START = 1_800_000_000.0  # any time: the log is this test's own


@pytest.fixture
def key():
    """A fresh key's limiter: (now) -> None or Retry-After."""
    schema_name = f"test_{secrets.token_hex(4)}"
    with override_settings(PARLEY_API_RATE_LIMIT=LIMIT):
        yield lambda now: rate_limit.key_retry_after(schema_name=schema_name, key_id=1, now=now)


def most_in_any_window(times: list[float], window: float = 60) -> int:
    """The most of `times` (sorted) that fall in one window [t, t + window)."""
    return max((bisect.bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)


@pytest.mark.parametrize("seed", range(6))
def test_a_client_that_honours_retry_after_never_gets_more_than_the_limit_in_any_60_s(key, seed):
    pace = random.Random(seed)
    now, let_through, waited = START, [], False
    while now < START + 600:
        retry_after = key(now)
        if retry_after is None:
            let_through.append(now)
            # Bursts, a steady trickle and pauses, in whole and odd fractions of a second.
            now += pace.choice([0, 0, 0.001, 0.3, 1, 2.5, 7, 13.7, 31])
        else:
            assert not waited, "after waiting as told, the request is let through"
            assert 1 <= retry_after <= 60
            now += retry_after
        waited = retry_after is not None
    assert most_in_any_window(let_through) == LIMIT


def test_a_client_that_sends_as_soon_as_it_may_gets_the_whole_limit(key):
    now, let_through = START, []
    while now < START + 600:
        retry_after = key(now)
        if retry_after is None:
            let_through.append(now)
        else:
            now += retry_after
    assert len(let_through) == LIMIT * 10 and most_in_any_window(let_through) == LIMIT


def test_the_turn_of_a_minute_is_no_boundary(key):
    """The fixed window's flaw (issue 13): the limit just before a minute turns, and again just after."""
    minute = (START // 60 + 1) * 60
    assert [key(minute - 0.1) for _ in range(LIMIT)] == [None] * LIMIT
    assert key(minute + 0.1) == 60  # the first five leave the window at minute + 59.9
    assert key(minute + 59.8) == 1
    assert key(minute + 59.9) is None


def test_retry_after_is_exact_to_the_second_and_refusals_do_not_push_it_back(key):
    for offset in (0, 10.25, 20.5, 30.75, 40):
        assert key(START + offset) is None
    assert key(START + 41) == 19  # the first leaves at START + 60
    # Refused, and not recorded: each answer counts from the same first request.
    assert [key(START + 42), key(START + 50), key(START + 59.5)] == [18, 10, 1]
    assert key(START + 59.999) == 1
    assert key(START + 60) is None  # exactly 60 s after the first: let through
    assert key(START + 60) == 11  # full again until START + 70.25 leaves
    assert key(START + 70.25) is None


def test_redis_clock_is_used_when_no_time_is_given(key):
    assert [key(None) for _ in range(LIMIT)] == [None] * LIMIT
    assert 59 <= key(None) <= 60
