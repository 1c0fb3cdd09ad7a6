"""config.shutdown: a stop signal that arrives after a request has arrived, before it waits, is seen."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from config import shutdown


@pytest.fixture
def server_handler():
    """A stand-in for the server's own SIGTERM handler, installed after the app was imported."""
    received = []
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    yield received
    signal.signal(signal.SIGTERM, previous)
    shutdown._stopping = False


def test_a_signal_between_arrival_and_waiting_sets_stopping(server_handler):
    seen = {}

    async def app(scope, receive, send):
        # The signal comes while the request reads the database, before it first waits.
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0)
        seen["stopping"] = shutdown.stopping().is_set()

    asyncio.run(shutdown.Watching(app)({"type": "http"}, None, None))

    assert seen["stopping"] is True
    assert server_handler == [signal.SIGTERM]  # the server's handler still runs


def test_without_a_signal_nothing_is_stopping(server_handler):
    async def app(scope, receive, send):
        return shutdown.stopping().is_set()

    assert asyncio.run(shutdown.Watching(app)({"type": "http"}, None, None)) is False
    assert server_handler == []
