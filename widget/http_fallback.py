"""The widget's HTTP fallback, for networks that block WebSockets: POST to send, long-poll to receive.

    POST /widget/api/hello?site=pk_…      {token?, after_id?, page_url?}    -> welcome
    POST /widget/api/messages?site=pk_…   {client_id, body}                 -> ack
    POST /widget/api/identify?site=pk_…   {email?, name?, user_id?, user_hash?, attributes?}
    GET  /widget/api/poll?site=pk_…&after=ID                                -> messages (waits up to 25 s)

The visitor token travels in the X-Parley-Visitor header. These endpoints are served by Channels
beside Django, not through Django's (synchronous) middleware: a poll waiting 25 seconds must
cost a coroutine, not the thread every request of the process shares. They use no cookies, so
no CSRF; CORS answers only the origins the website allows. Checks and limits are the socket's,
through the same widget.services functions; and a visitor, or an address, may keep only so many polls
waiting at once (PARLEY_POLLS_PER_VISITOR, PARLEY_POLLS_PER_IP): past that, 429 at once. When the
server is stopping, waiting polls answer at once (config/shutdown.py). While the workspace is
suspended, every endpoint answers 403 `workspace_suspended` (with CORS, for an allowed origin), and so
do the polls waiting when it is suspended, at once.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from channels.exceptions import StopConsumer
from channels.generic.http import AsyncHttpConsumer
from channels.layers import get_channel_layer

from config import request_input, shutdown
from inbox import realtime
from inbox.exceptions import InboxError
from widget import rate_limits
from widget import services as widget

POLL_SECONDS = 25
# A poll's slot lapses by itself this long after it was taken, if its process died before giving it back.
POLL_SLOT_LIFETIME = POLL_SECONDS + 35
MAX_BODY_BYTES = 64 * 1024
VISITOR_HEADER = "x-parley-visitor"


@dataclass
class WidgetRequest:
    method: str
    headers: dict[str, str]
    query: dict[str, str]
    payload: dict
    ip: str

    @property
    def token(self) -> str:
        return str(self.headers.get(VISITOR_HEADER) or self.payload.get("token") or "")[:100]


class Answer(Exception):
    """Raised to answer at once with a JSON error."""

    def __init__(self, status: int, code: str, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.body = status, {"type": "error", "code": code, "message": message, **extra}


class WidgetHttpConsumer(AsyncHttpConsumer):
    received = 0

    async def http_request(self, message: dict) -> None:
        self.received += len(message.get("body", b""))
        if self.received > MAX_BODY_BYTES:
            await self._reply(
                413, {"type": "error", "code": "too_large", "message": "Request body too large."}
            )
            raise StopConsumer()
        await super().http_request(message)

    async def handle(self, body: bytes) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.scope["headers"]}
        origin = headers.get("origin", "")
        query = {k: v[0] for k, v in parse_qs(self.scope.get("query_string", b"").decode()).items()}
        try:
            site = await widget.site_for(query.get("site"), origin)
        except widget.WidgetRefused as refused:
            # No CORS headers: a foreign page cannot even read why it was refused. A suspension is
            # found only for an allowed origin, whose widget must read it (to keep its queued messages).
            readable = _cors_headers(origin) if refused.code == "workspace_suspended" else []
            body = {"type": "error", "code": refused.code, "message": str(refused)}
            await self._reply(refused.status, body, readable)
            return
        cors = _cors_headers(origin)
        method = self.scope["method"]
        action = ACTIONS.get(self.scope["url_route"]["kwargs"]["action"])
        try:
            if action is None:
                raise Answer(404, "not_found", "No such widget endpoint.")
            if method == "OPTIONS":
                await self._reply(204, None, cors)
                return
            allowed_method, handler = action
            if method != allowed_method:
                raise Answer(405, "method_not_allowed", f"Use {allowed_method}.")
            payload = _json_object(body) if method == "POST" else {}
            request = WidgetRequest(
                method, headers, query, payload, (self.scope.get("client") or ["unknown"])[0]
            )
            try:
                status, answer = 200, await handler(site, request)
            except InboxError as exc:
                raise Answer(exc.http_status, exc.code, str(exc), client_id=payload.get("client_id")) from exc
            except request_input.InvalidInput as exc:
                raise Answer(400, "invalid_request", str(exc)) from exc
        except Answer as answer_now:
            status, answer = answer_now.status, answer_now.body
        await self._reply(status, answer, cors)

    async def _reply(self, status: int, body: dict | None, headers: list | None = None) -> None:
        content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        response_headers = [
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-store"),
            *(headers or []),
        ]
        await self.send_response(status, content, headers=response_headers)


def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
        (b"access-control-allow-headers", b"Content-Type, X-Parley-Visitor"),
        (b"access-control-max-age", b"600"),
        (b"vary", b"Origin"),
    ]


def _json_object(body: bytes) -> dict:
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise Answer(400, "invalid_frame", "The body must be a JSON object.")
    return payload


async def hello(site: widget.WidgetSite, request: WidgetRequest) -> dict:
    if not await rate_limits.allow_connect(request.ip):
        raise Answer(429, "rate_limited", "Too many connections from this address.")
    return await widget.hello(
        site,
        token=request.token or None,
        after_id=request_input.whole_number(request.payload.get("after_id"), name="after_id", default=0),
        page_url=str(request.payload.get("page_url") or "")[:2000],
        user_agent=request.headers.get("user-agent", ""),
    )


async def send(site: widget.WidgetSite, request: WidgetRequest) -> dict:
    contact_id = await widget.contact_id_for_token(site, request.token)
    return await widget.visitor_message_receive(
        site,
        contact_id,
        body=request.payload.get("body"),
        client_id=request.payload.get("client_id"),
        ip=request.ip,
    )


async def identify(site: widget.WidgetSite, request: WidgetRequest) -> dict:
    contact_id = await widget.contact_id_for_token(site, request.token)
    return await widget.identify(site, contact_id, request.payload)


async def poll(site: widget.WidgetSite, request: WidgetRequest) -> dict:
    """Messages after `after` at once, or after waiting (up to POLL_SECONDS) for a push."""
    contact_id = await widget.contact_id_for_token(site, request.token)
    after_id = request_input.whole_number(request.query.get("after"), name="after", default=0)
    wait = request_input.decimal_number(
        request.query.get("wait"), name="wait", minimum=0, maximum=POLL_SECONDS, default=POLL_SECONDS
    )
    try:
        async with rate_limits.poll_slot(
            schema_name=site.schema_name, contact_id=contact_id, ip=request.ip, lifetime=POLL_SLOT_LIFETIME
        ):
            return await _poll(site, contact_id, after_id, wait)
    except rate_limits.TooManyPolls as exc:
        raise Answer(429, "too_many_polls", str(exc)) from exc


async def _poll(site: widget.WidgetSite, contact_id: int, after_id: int, wait: float) -> dict:
    messages = await widget.messages_after(site, contact_id, after_id)
    typing = None
    if not messages:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        # The visitor's pushes, and the workspace's suspension (which answers the waiting poll at once;
        # one that began in the moment before it committed answers after `wait`, and the next is refused).
        groups = [
            realtime.contact_group(site.schema_name, contact_id),
            realtime.widgets_group(site.schema_name),
        ]
        for group in groups:
            await layer.group_add(group, channel)
        try:
            # Subscribed first, then looked again: a message committed in between is not missed.
            messages = await widget.messages_after(site, contact_id, after_id)
            if not messages:
                event = await _next_event_unless_stopping(layer, channel, wait)
                if event and event.get("type") == "workspace.suspended":
                    code, status = "workspace_suspended", widget.WORKSPACE_SUSPENDED[1]
                    raise Answer(status, code, widget.SUSPENDED_MESSAGE)
                if event and event.get("type") == "typing" and event.get("who") == "agent":
                    typing = {"is_typing": event["is_typing"], "name": event.get("name", "")}
                messages = await widget.messages_after(site, contact_id, after_id)
        finally:
            for group in groups:
                await layer.group_discard(group, channel)
    return {"type": "messages", "messages": messages, "typing": typing}


async def _next_event_unless_stopping(layer, channel: str, wait: float) -> dict | None:
    """The channel's next event within `wait` seconds; None at the deadline, or at once when the
    server is stopping: the poll then answers with what it has and the client polls again elsewhere."""
    receive = asyncio.ensure_future(layer.receive(channel))
    stop = asyncio.ensure_future(shutdown.stopping().wait())
    try:
        await asyncio.wait({receive, stop}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (receive, stop):
            task.cancel()
        await asyncio.gather(receive, stop, return_exceptions=True)
    if receive.done() and not receive.cancelled():
        return receive.result()
    return None


ACTIONS = {
    "hello": ("POST", hello),
    "messages": ("POST", send),
    "identify": ("POST", identify),
    "poll": ("GET", poll),
}
