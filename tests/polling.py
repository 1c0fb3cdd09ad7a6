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


class _Deadline:
    def __init__(self, timeout: float, what: str) -> None:
        self.at, self.timeout, self.what = time.monotonic() + timeout, timeout, what or "the condition"

    def met_by(self, answer: object) -> bool:
        """Whether `answer` ends the wait; past the deadline, the test fails."""
        if answer:
            return True
        if time.monotonic() >= self.at:
            raise AssertionError(f"not within {self.timeout} s: {self.what} (last seen: {answer!r})")
        return False


def eventually(
    check: Callable[[], T], *, timeout: float = 10.0, what: str = "", interval: float = INTERVAL
) -> T:
    """Call `check` until it answers something truthy (returned), for at most `timeout` seconds."""
    deadline = _Deadline(timeout, what)
    while not deadline.met_by(answer := check()):
        time.sleep(interval)
    return answer


async def eventually_async(
    check: Callable[[], T], *, timeout: float = 10.0, what: str = "", interval: float = INTERVAL
) -> T:
    """`eventually` for async tests: the event loop runs while it waits."""
    deadline = _Deadline(timeout, what)
    while not deadline.met_by(answer := check()):
        await asyncio.sleep(interval)
    return answer
