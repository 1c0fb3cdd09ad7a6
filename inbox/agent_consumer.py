"""The inbox page's WebSocket: /ws/inbox/ on a workspace host.

It lets in a logged-in member of the workspace whose host it was opened on (the session cookie of
that host, and an Origin of that host), joins the workspace's agents group, and turns each event
into the HTML the page shows, rendered from the page's own partials for this agent's view."""

from __future__ import annotations

import asyncio
import logging
import time
from http.cookies import SimpleCookie
from importlib import import_module
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare

from config import request_input
from inbox import presence, realtime, selectors
from inbox.models import Conversation, Message
from inbox.sockets import LoopConsumer, frame_from, scope_header
from tenants import selectors as tenant_selectors
from tenants.context import in_public, in_workspace

logger = logging.getLogger(__name__)

NOT_ALLOWED = 4403
SUSPENDED_MESSAGE = "This workspace is suspended: its inbox is closed. Reload the page to see more."


def _agent_for(hostname: str, session_key: str) -> dict | None:
    """The member behind this session on this workspace host, or None."""
    workspace = tenant_selectors.workspace_for_hostname(hostname)
    if workspace is None or not session_key:
        return None
    engine = import_module(settings.SESSION_ENGINE)
    session: SessionBase = engine.SessionStore(session_key)
    user_id = session.get(SESSION_KEY)
    if user_id is None or BACKEND_SESSION_KEY not in session:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    # As Django's get_user: a password change ends the other sessions.
    if user is None or not constant_time_compare(
        session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
    ):
        return None
    membership = tenant_selectors.membership_for(user=user, workspace=workspace)
    if membership is None:
        return None
    return {"schema": workspace.schema_name, "workspace": workspace, "user": user}


class InboxConsumer(LoopConsumer):
    agent = None
    read_only: dict | None = None
    _read_only_end: asyncio.Task | None = None

    async def connect(self) -> None:
        host = scope_header(self.scope, b"host")
        hostname = host.rsplit(":", 1)[0].lower()
        origin = urlsplit(scope_header(self.scope, b"origin"))
        cookie = SimpleCookie(scope_header(self.scope, b"cookie"))
        session_key = (
            cookie[settings.SESSION_COOKIE_NAME].value if settings.SESSION_COOKIE_NAME in cookie else ""
        )
        # A page of another site must not open an agent's socket with the agent's cookie.
        same_origin = origin.netloc.lower() == host.lower() and origin.scheme in ("http", "https")
        agent = await in_public(_agent_for, hostname, session_key) if same_origin else None
        await self.accept()
        if agent is None:
            await self.send_json({"type": "refused", "message": "Log in to this workspace to use its inbox."})
            await self.close(code=NOT_ALLOWED)
            return
        self.agent = agent
        self.schema = agent["schema"]
        self.filters = selectors.InboxFilters()
        self.open_conversation_id: int | None = None
        self.read_only = self.scope.get(realtime.READ_ONLY_SCOPE_KEY)
        for group in self._groups():
            await self.channel_layer.group_add(group, self.channel_name)
        # Read once subscribed: a suspension that commits before this read is seen here, one that
        # commits after it reaches the agents group and closes the socket (workspace_suspended).
        if await in_public(tenant_selectors.workspace_is_suspended, agent["workspace"].pk):
            for group in self._groups():
                await self.channel_layer.group_discard(group, self.channel_name)
            self.agent = None
            await self.workspace_suspended({})
            return
        if self.read_only:
            await self.send_json({"type": "ready", "read_only": True})
            self._read_only_end = asyncio.create_task(self._close_at(self.read_only["until"]))
            return
        await self.send_json({"type": "ready"})
        await self._present(True)

    async def _close_at(self, until: float) -> None:
        await asyncio.sleep(max(0.0, until - time.time()))
        await self.send_json({"type": "refused", "message": realtime.READ_ONLY_ENDED_MESSAGE})
        await self.close(code=NOT_ALLOWED)

    async def _open(self, conversation_id: int | None) -> None:
        """Follow the conversation on screen: its group (typing), and its messages out of the agents group."""
        theirs = conversation_id is not None and await in_workspace(self.schema, _contact_of, conversation_id)
        if theirs is None:
            conversation_id = None  # not one of this workspace's
        if conversation_id == self.open_conversation_id:
            return
        if self.open_conversation_id is not None:
            await self.channel_layer.group_discard(
                realtime.conversation_group(self.schema, self.open_conversation_id), self.channel_name
            )
        if conversation_id is not None:
            await self.channel_layer.group_add(
                realtime.conversation_group(self.schema, conversation_id), self.channel_name
            )
        self.open_conversation_id = conversation_id

    def _groups(self) -> tuple[str, str]:
        return realtime.agents_group(self.schema), realtime.member_group(self.schema, self.agent["user"].pk)

    async def _present(self, here: bool) -> None:
        """Count this socket in (or out of) the agent's presence, and tell every inbox."""
        if here:
            await presence.socket_beat(self.schema, self.agent["user"].pk, self.channel_name)
        else:
            await presence.socket_gone(self.schema, self.agent["user"].pk, self.channel_name)
        await realtime.publish_async([realtime.agents_group(self.schema)], {"type": "presence.changed"})

    async def disconnect(self, code: int) -> None:
        if self._read_only_end is not None:
            self._read_only_end.cancel()
        if self.agent:
            await self._open(None)
            for group in self._groups():
                await self.channel_layer.group_discard(group, self.channel_name)
            if not self.read_only:
                await self._present(False)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.agent is None:
            return
        frame = frame_from(text_data)
        if frame is None:
            await self._send_error("Frames are JSON objects with a type.")
            return
        try:
            await self._on_frame(frame)
        except request_input.InvalidInput as exc:
            await self._send_error(str(exc))

    async def _on_frame(self, frame: dict) -> None:
        if self.read_only and frame.get("type") in ("typing", "away", "beat"):
            # Typing reaches the visitor, away and beats the colleagues: none of them while read-only.
            # Beats come by themselves every few seconds: dropped without a word.
            if frame["type"] != "beat":
                await self.send_json(
                    {"type": "error", "code": "read_only", "message": self.read_only["message"]}
                )
            return
        if frame.get("type") == "view":
            filters = frame.get("filters") or {}
            if not isinstance(filters, dict):
                raise request_input.InvalidInput("filters must be an object.")
            conversation_id = request_input.object_id(frame.get("conversation_id"), name="conversation_id")
            self.filters = selectors.inbox_filters_from(filters)
            await self._open(conversation_id)
        elif frame.get("type") == "typing":
            conversation_id = request_input.object_id(frame.get("conversation_id"), name="conversation_id")
            if conversation_id is None:
                return
            contact_id = await in_workspace(self.schema, _contact_of, conversation_id)
            if contact_id is not None:
                await realtime.publish_async(
                    [realtime.contact_group(self.schema, contact_id)],
                    {"type": "typing", "who": "agent", "name": self.agent["user"].name,
                     "is_typing": bool(frame.get("is_typing"))},
                )  # fmt: skip
        elif frame.get("type") == "beat":
            await presence.socket_beat(self.schema, self.agent["user"].pk, self.channel_name)
        elif frame.get("type") == "away":
            await presence.away_set(self.schema, self.agent["user"].pk, bool(frame.get("away")))
            await realtime.publish_async([realtime.agents_group(self.schema)], {"type": "presence.changed"})
        else:
            await self._send_error("Unknown frame type.")

    async def _send_error(self, message: str) -> None:
        await self.send_json({"type": "error", "code": "invalid_frame", "message": message})

    # --- pushed through the channel layer

    async def message_created(self, event: dict) -> None:
        await self._update(event["message"]["conversation_id"], event["message"]["id"], event)

    async def conversation_changed(self, event: dict) -> None:
        await self._update(event["conversation_id"], None, event)

    async def _update(self, conversation_id: int, message_id: int | None, event: dict) -> None:
        update = await in_workspace(
            self.schema,
            _render_update,
            conversation_id=conversation_id,
            message_id=message_id,
            agent=self.agent["user"],
            workspace=self.agent["workspace"],
            filters=self.filters,
            open_conversation_id=self.open_conversation_id,
            new_conversation=bool(event.get("new_conversation")),
        )
        if update is not None:
            await self.send_json(update)

    async def typing(self, event: dict) -> None:
        if event.get("who") == "visitor" and event.get("conversation_id") == self.open_conversation_id:
            await self.send_json(
                {
                    "type": "typing",
                    "conversation_id": event["conversation_id"],
                    "is_typing": event["is_typing"],
                }
            )

    async def presence_changed(self, event: dict) -> None:
        online, away = await presence.presence(self.schema)
        html = await in_workspace(
            self.schema, _render_presence, workspace=self.agent["workspace"], user=self.agent["user"],
            online=online, away=away,
        )  # fmt: skip
        await self.send_json({"type": "presence", "html": html})

    async def mention(self, event: dict) -> None:
        title = f"{event['by']} mentioned you"
        await self.send_json({
            "type": "mention", "announce": f"{title}: {event['body']}",
            "notify": {"title": title, "body": event["body"], "conversation_id": event["conversation_id"]},
        })  # fmt: skip

    async def membership_revoked(self, event: dict) -> None:
        await self.send_json({"type": "refused", "message": "You are no longer a member of this workspace."})
        await self.close(code=NOT_ALLOWED)

    async def workspace_suspended(self, event: dict) -> None:
        await self.send_json({"type": "refused", "message": SUSPENDED_MESSAGE})
        await self.close(code=realtime.WORKSPACE_SUSPENDED_CLOSE)

    async def session_ended(self, event: dict) -> None:
        # The account was taken back by the owner of its address (accounts.services): every session
        # made before that ends, open sockets included.
        await self.send_json({"type": "refused", "message": "You were signed out. Log in again."})
        await self.close(code=NOT_ALLOWED)


def _render_presence(*, workspace, user, online: set[int], away: set[int]) -> str:
    members = tenant_selectors.members_of_workspace(workspace=workspace)
    return render_to_string(
        "inbox/partials/presence.html", {"team": selectors.presence_rows(members, online, away), "user": user}
    )


def _contact_of(conversation_id: int) -> int | None:
    return Conversation.objects.filter(pk=conversation_id).values_list("contact_id", flat=True).first()


def _render_update(
    *,
    conversation_id: int,
    message_id: int | None,
    agent,
    workspace,
    filters: selectors.InboxFilters,
    open_conversation_id: int | None,
    new_conversation: bool,
) -> dict | None:
    """What one agent's page needs after a change to a conversation: its row (if their list shows
    it), the new message and the header (if they have it open), the counts, what to announce."""
    agent_id = agent.pk
    conversation = selectors.conversation_for_agent(conversation_id)
    if conversation is None:
        return None
    context = {"conversation": conversation, "open_conversation_id": open_conversation_id}
    matches = selectors.conversation_matches(conversation=conversation, agent_id=agent_id, filters=filters)
    update = {
        "type": "update",
        "conversation_id": conversation.pk,
        "row": render_to_string("inbox/partials/conversation_row.html", context) if matches else None,
        "counts": selectors.inbox_counts(agent_id=agent_id),
    }
    if conversation.pk == open_conversation_id:
        members = tenant_selectors.members_of_workspace(workspace=workspace)
        update["head"] = render_to_string(
            "inbox/partials/conversation_head.html",
            {
                **context,
                "user": agent,
                "members": members,
                "priorities": Conversation.Priority.choices,
                "labels": selectors.labels_of_workspace(),
            },
        )
    if message_id is not None:
        message = Message.objects.filter(pk=message_id).first()
        if message is None:
            return update
        update["message_id"] = message.pk
        if conversation.pk == open_conversation_id:
            selectors.with_authors([message])
            update["message"] = render_to_string(
                "inbox/partials/message.html", {"message": message, "conversation": conversation}
            )
        mine_or_nobodys = conversation.assignee_id in (None, agent_id)
        if message.author_kind == Message.AuthorKind.VISITOR and mine_or_nobodys:
            title = "New conversation" if new_conversation else f"New message from {conversation.contact}"
            update["announce"] = f"{title}: {message.body[:140]}"
            update["notify"] = {
                "title": title,
                "body": message.body[:140],
                "conversation_id": conversation.pk,
            }
    return update
