"""What Parley's WebSocket consumers share (the widget's and the inbox's)."""

from __future__ import annotations

import json

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer


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
    """A consumer that stays on the event loop and speaks JSON frames."""

    async def dispatch(self, message: dict) -> None:
        # Channels would hop to a thread before every frame and push to close "old" connections;
        # these consumers reach the database only through tenants.context, which returns each
        # connection to the pool itself, so the hop is pure cost on the busiest path.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, separators=(",", ":")))
