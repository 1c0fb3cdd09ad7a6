"""`stopping()`: an event set once the server process is asked to stop, for requests that wait.

On SIGTERM or SIGINT, uvicorn stops accepting connections and then waits for the requests in
flight to finish; it tells them nothing (no `http.disconnect`, and the lifespan shutdown comes only
after they have finished). A widget long-poll would hold the process up to 25 s, and then outlive
Redis. So a request that waits also waits on `stopping()`, and answers at once when it is set.

The server installs its own signal handlers after it has imported the app, so the handler here is
chained in front of whatever handles the signal as each request or socket arrives (`Watching`
wraps the app) and again when a request waits (in case the server installed new ones since). It is
chained on arrival, not only on waiting: a signal between a poll's arrival and its wait (its
database reads, its subscription) would otherwise reach only the server's handler, and the poll
would then wait its full time. Where nothing handles a signal yet (SIG_DFL, SIG_IGN), it is left
alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import weakref
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_stopping = False
# One event per event loop: an asyncio.Event belongs to the loop that first waits on it.
_events: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = weakref.WeakKeyDictionary()


def stopping() -> asyncio.Event:
    """The running loop's event, set once this process has been asked to stop."""
    loop = asyncio.get_running_loop()
    event = _events.get(loop)
    if event is None:
        event = _events[loop] = asyncio.Event()
    if _stopping:
        event.set()
    _chain_signal_handlers()
    return event


class Watching:
    """ASGI wrapper: chains the stop handlers in front of the server's before the app sees a request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        _chain_signal_handlers()
        return await self.app(scope, receive, send)


def _chain_signal_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set signal handlers, and only its loop is the server's
    for signum in STOP_SIGNALS:
        previous = signal.getsignal(signum)
        if not callable(previous) or getattr(previous, "sets_stopping", False):
            continue

        def handler(received: int, frame: FrameType | None, previous=previous) -> None:
            _set_stopping()
            previous(received, frame)

        handler.sets_stopping = True  # type: ignore[attr-defined]
        signal.signal(signum, handler)


def _set_stopping() -> None:
    """Set every loop's event; runs in a signal handler, so it only schedules the sets."""
    global _stopping
    _stopping = True
    for loop, event in list(_events.items()):
        with contextlib.suppress(RuntimeError):  # a closed loop: nothing waits on it any more
            loop.call_soon_threadsafe(event.set)
