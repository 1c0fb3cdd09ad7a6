"""The polling helper: it returns the first truthy answer, and fails past its deadline with what it saw."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.polling import eventually, eventually_async


def test_it_returns_the_first_truthy_answer():
    answers = iter([None, 0, [], ["row"], ["later"]])
    assert eventually(lambda: next(answers), timeout=5, interval=0) == ["row"]


def test_it_fails_past_the_deadline_naming_what_it_waited_for():
    calls = itertools.count()
    with pytest.raises(AssertionError, match=r"not within 0.1 s: the rows \(last seen: \[\]\)"):
        eventually(lambda: next(calls) and [], timeout=0.1, what="the rows", interval=0.01)


def test_the_async_one_lets_the_loop_run_while_it_waits():
    async def scenario():
        done = []
        asyncio.get_running_loop().call_later(0.05, done.append, "pushed")
        return await eventually_async(lambda: done, timeout=5)

    assert asyncio.run(scenario()) == ["pushed"]
