"""Waiting in tests for something that happens elsewhere (another process, a socket, a worker): poll
with a deadline, never a fixed sleep. The one helper every test uses.

    rows = eventually(lambda: messages(schema) if len(messages(schema)) >= 2 else None, timeout=10)
    await eventually_async(lambda: slot.taken, timeout=5)

Each returns the check's first truthy answer; past the deadline the test fails with `what` and the
last answer seen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

INTERVAL = 0.05


def eventually(
    check: Callable[[], T], *, timeout: float = 10.0, what: str = "", interval: float = INTERVAL
) -> T:
    """Call `check` until it answers something truthy (returned), for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what or 'the condition'} (last seen: {answer!r})")
        time.sleep(interval)


async def eventually_async(
    check: Callable[[], T], *, timeout: float = 10.0, what: str = "", interval: float = INTERVAL
) -> T:
    """`eventually` for async tests: the event loop runs while it waits."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what or 'the condition'} (last seen: {answer!r})")
        await asyncio.sleep(interval)
