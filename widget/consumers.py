"""The widget's WebSocket: /ws/widget/?site=pk_…  (frames are JSON objects with a "type")."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs

from config import request_input
from inbox import realtime
from inbox.exceptions import InboxError
from inbox.sockets import LoopConsumer, frame_from, scope_header
from widget import rate_limits
from widget import services as widget

logger = logging.getLogger(__name__)

TYPING_MIN_INTERVAL = 1.0  # seconds between two typing events forwarded for one socket


class WidgetConsumer(LoopConsumer):
    site: widget.WidgetSite | None = None
    contact_id: int | None = None
    widgets_group: str | None = None  # the workspace's: closed when it is suspended
    suspended = False

    async def connect(self) -> None:
        await self.accept()
        self.ip = (self.scope.get("client") or ("unknown", 0))[0]
        self.last_typing = 0.0
        site_key = parse_qs(self.scope.get("query_string", b"").decode()).get("site", [None])[0]
        try:
            if not await rate_limits.allow_connect(self.ip):
                raise widget.WidgetRefused(*widget.TOO_MANY, "Too many connections from this address.")
            self.site = await widget.site_for(
                site_key, scope_header(self.scope, b"origin"), subscribe=self._subscribe
            )
        except widget.WidgetRefused as refused:
            await self.send_json({"type": "refused", "code": refused.close_code, "message": str(refused)})
            await self.close(code=refused.close_code)

    async def _subscribe(self, schema_name: str) -> None:
        self.widgets_group = realtime.widgets_group(schema_name)
        await self.channel_layer.group_add(self.widgets_group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        if self.widgets_group:
            await self.channel_layer.group_discard(self.widgets_group, self.channel_name)
        if self.site and self.contact_id:
            await self.channel_layer.group_discard(
                realtime.contact_group(self.site.schema_name, self.contact_id), self.channel_name
            )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.site is None or self.suspended:
            return
        frame = frame_from(text_data)
        if frame is None:
            await self.send_error("invalid_frame", "Frames are JSON objects with a type.")
            return
        kind = frame.get("type")
        if kind != "hello" and self.contact_id is None:
            await self.send_error("not_ready", "Send hello first.", frame.get("client_id"))
            return
        handler = {
            "hello": self.on_hello,
            "message": self.on_message,
            "sync": self.on_sync,
            "typing": self.on_typing,
            "identify": self.on_identify,
        }.get(kind)
        if handler is None:
            await self.send_error("invalid_frame", f"Unknown frame type {str(kind)[:40]!r}.")
            return
        try:
            await handler(frame)
        except InboxError as exc:
            await self.send_error(exc.code, str(exc), frame.get("client_id"))
        except request_input.InvalidInput as exc:
            await self.send_error("invalid_frame", str(exc), frame.get("client_id"))

    # --- from the visitor

    async def on_hello(self, frame: dict) -> None:
        if self.contact_id is not None:
            await self.send_error("invalid_frame", "hello was already sent on this connection.")
            return
        welcome = await widget.hello(
            self.site,
            token=str(frame.get("token") or "")[:100] or None,
            after_id=_after_id(frame),
            page_url=str(frame.get("page_url") or "")[:2000],
            user_agent=scope_header(self.scope, b"user-agent"),
        )
        self.contact_id = welcome["contact_id"]
        await self.channel_layer.group_add(
            realtime.contact_group(self.site.schema_name, self.contact_id), self.channel_name
        )
        await self.send_json(welcome)

    async def on_message(self, frame: dict) -> None:
        ack = await widget.visitor_message_receive(
            self.site,
            self.contact_id,
            body=frame.get("body"),
            client_id=frame.get("client_id"),
            ip=self.ip,
            sender_channel=self.channel_name,
        )
        await self.send_json(ack)

    async def on_sync(self, frame: dict) -> None:
        messages = await widget.messages_after(self.site, self.contact_id, _after_id(frame))
        await self.send_json({"type": "messages", "messages": messages})

    async def on_typing(self, frame: dict) -> None:
        now = time.monotonic()
        if now - self.last_typing < TYPING_MIN_INTERVAL and frame.get("is_typing"):
            return
        self.last_typing = now
        conversation_id = await widget.open_conversation_id(self.site, self.contact_id)
        if conversation_id is None:
            return
        schema = self.site.schema_name
        event = {
            "type": "typing",
            "who": "visitor",
            "contact_id": self.contact_id,
            "conversation_id": conversation_id,
            "is_typing": bool(frame.get("is_typing")),
        }
        # Only the inboxes showing this conversation care (they join its group), not every agent.
        await realtime.publish_async([realtime.conversation_group(schema, conversation_id)], event)

    async def on_identify(self, frame: dict) -> None:
        await self.send_json(await widget.identify(self.site, self.contact_id, frame))

    # --- pushed through the channel layer

    async def message_created(self, event: dict) -> None:
        await self.send_json({"type": "message", "message": event["message"]})

    async def typing(self, event: dict) -> None:
        if event.get("who") == "agent":
            await self.send_json(
                {"type": "typing", "is_typing": event["is_typing"], "name": event.get("name", "")}
            )

    async def workspace_suspended(self, event: dict) -> None:
        # A message handled before this was stored and acknowledged; frames still waiting are not
        # handled, so get no ack: the widget keeps those, and sends them once it is unsuspended.
        self.suspended = True
        close_code = widget.WORKSPACE_SUSPENDED[0]
        await self.send_json({"type": "refused", "code": close_code, "message": widget.SUSPENDED_MESSAGE})
        await self.close(code=close_code)

    # --- helpers

    async def send_error(self, code: str, message: str, client_id=None) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, "client_id": client_id})


def _after_id(frame: dict) -> int:
    return request_input.whole_number(frame.get("after_id"), name="after_id", default=0)
