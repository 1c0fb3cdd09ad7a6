"""What Parley's WebSocket consumers share (the widget's and the inbox's)."""

from __future__ import annotations

import asyncio
import collections
import json
import logging

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

logger = logging.getLogger(__name__)


def scope_header(scope, name: bytes) -> str:
    """A request header of the handshake, or ''."""
    return next((value.decode("latin-1") for key, value in scope.get("headers", []) if key == name), "")


def frame_from(text_data: str | None) -> dict | None:
    """A client's frame: a JSON object whose type, if it has one, is a string; None for anything else
    (a list as the type would reach a dict lookup of handlers, and end the socket)."""
    try:
        frame = json.loads(text_data or "")
    except ValueError:
        return None
    if not isinstance(frame, dict) or not isinstance(frame.get("type", ""), str):
        return None
    return frame


class LoopConsumer(AsyncWebsocketConsumer):
    """A consumer that stays on the event loop and speaks JSON frames.

    A client's frames are taken off the socket as soon as they arrive and handled in order by a task
    of the socket's own. uvicorn stops reading a socket while a frame it passed on waits to be taken,
    so a consumer that handled each frame before taking the next left a busy socket unread for as
    long as its backlog lasted: the client's pong to the keepalive ping sat unread behind it, and
    every socket was dropped ("keepalive ping timeout") just when the server was busiest. Reading
    still stops once PENDING_BYTES_MAX of frames wait, so a client cannot queue without bound."""

    PENDING_BYTES_MAX = 256 * 1024

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._frames: collections.deque[dict] = collections.deque()
        self._frames_bytes = 0
        self._frames_room = asyncio.Event()
        self._frames_task: asyncio.Task | None = None

    async def dispatch(self, message: dict) -> None:
        # Channels would hop to a thread before every frame and push to close "old" connections;
        # these consumers reach the database only through tenants.context, which returns each
        # connection to the pool itself, so the hop is pure cost on the busiest path.
        if message["type"] == "websocket.receive":
            await self._frame_queue(message)
            return
        if message["type"] == "websocket.disconnect" and self._frames_task:
            self._frames_task.cancel()  # the client resends what it has no ack for
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def _frame_queue(self, message: dict) -> None:
        self._frames.append(message)
        self._frames_bytes += _frame_size(message)
        if self._frames_task is None:
            self._frames_task = asyncio.create_task(self._frames_handle())
        while self._frames_bytes > self.PENDING_BYTES_MAX:
            self._frames_room.clear()
            await self._frames_room.wait()

    async def _frames_handle(self) -> None:
        try:
            while self._frames:
                message = self._frames.popleft()
                self._frames_bytes -= _frame_size(message)
                self._frames_room.set()
                await self.websocket_receive(message)
        except Exception:
            # As an exception in the consumer itself would: the socket ends (the client reconnects
            # and resends what was not acknowledged), and the error is logged.
            logger.exception("a frame's handler failed; closing the socket")
            await self.close(code=1011)
        finally:
            self._frames_task = None

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, separators=(",", ":")))


def _frame_size(message: dict) -> int:
    return len(message.get("text") or message.get("bytes") or "")
