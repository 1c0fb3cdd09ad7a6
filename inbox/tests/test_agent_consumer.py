"""The inbox socket over the real Redis channel layer: who gets in, and what reaches an open inbox."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from inbox import services
from inbox.models import Conversation
from inbox.tests.sites import connect_visitor
from tenants.context import in_workspace
from tenants.models import Membership

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _session_cookie(user, host: str) -> str:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client.cookies["parley_session"].value


def inbox_socket(host: str, *, origin: str | None, session: str | None) -> WebsocketCommunicator:
    headers = [(b"host", host.encode())]
    if origin:
        headers.append((b"origin", origin.encode()))
    if session:
        headers.append((b"cookie", f"parley_session={session}".encode()))
    return WebsocketCommunicator(application, "/ws/inbox/", headers=headers)


async def _next(socket: WebsocketCommunicator) -> dict:
    """The next frame that is not a presence update (every inbox opening or closing sends one)."""
    while (frame := await socket.receive_json_from(timeout=5))["type"] == "presence":
        pass
    return frame


async def _open_inbox(user, host="alpha.localhost") -> WebsocketCommunicator:
    from asgiref.sync import sync_to_async

    session = await sync_to_async(_session_cookie)(user, host)
    socket = inbox_socket(host, origin=f"http://{host}", session=session)
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from(timeout=5)) == {"type": "ready"}
    return socket


async def test_a_visitor_message_reaches_an_open_inbox_as_a_row_and_a_bubble(site_a, tx_workspaces):
    inbox = await _open_inbox(tx_workspaces.owner_a)
    await inbox.send_json_to({"type": "view", "filters": {"tab": "unassigned"}})
    visitor, _ = await connect_visitor(site_a)

    await visitor.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "Need <help>"})
    ack = await visitor.receive_json_from(timeout=5)
    update = await _next(inbox)

    conversation_id = ack["message"]["conversation_id"]
    assert update["type"] == "update" and update["conversation_id"] == conversation_id
    assert (
        f'id="conversation-row-{conversation_id}"' in update["row"] and "Need &lt;help&gt;" in update["row"]
    )
    assert "message" not in update  # not open on this page
    assert update["counts"]["unassigned"] == 1 and update["announce"].startswith("New conversation")

    # With the conversation open, the next message comes as its bubble too; typing shows (typing goes
    # to the conversation's group, which the inbox has joined once its bubble arrives).
    await inbox.send_json_to({"type": "view", "filters": {"tab": "all"}, "conversation_id": conversation_id})
    await visitor.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "Hello?"})
    update = await _next(inbox)
    assert 'class="bubble bubble-visitor"' in update["message"] and "Hello?" in update["message"]
    await visitor.send_json_to({"type": "typing", "is_typing": True})
    assert await _next(inbox) == {
        "type": "typing",
        "conversation_id": conversation_id,
        "is_typing": True,
    }
    await inbox.disconnect()
    await visitor.disconnect()


async def test_an_agent_reply_in_one_inbox_shows_in_another_and_reaches_the_visitor(site_a, tx_workspaces):
    visitor, _ = await connect_visitor(site_a)
    await visitor.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "Hi"})
    conversation_id = (await visitor.receive_json_from(timeout=5))["message"]["conversation_id"]
    other_inbox = await _open_inbox(tx_workspaces.owner_a)
    await other_inbox.send_json_to(
        {"type": "view", "filters": {"tab": "all"}, "conversation_id": conversation_id}
    )

    # Agent typing reaches the visitor.
    await other_inbox.send_json_to({"type": "typing", "conversation_id": conversation_id, "is_typing": True})
    assert (await visitor.receive_json_from(timeout=5))["type"] == "typing"

    def reply():
        conversation = Conversation.objects.get(pk=conversation_id)
        services.conversation_assign(
            conversation=conversation, assignee=tx_workspaces.owner_a, by=tx_workspaces.owner_a
        )
        return services.message_from_agent(
            conversation=conversation, author=tx_workspaces.owner_a, body="Hello!"
        )

    await in_workspace(site_a.schema_name, reply)
    assigned = await _next(other_inbox)
    replied = await _next(other_inbox)
    assert "Ana Owner took this conversation" in assigned["message"]
    assert "Hello!" in replied["message"] and "bubble-agent" in replied["message"]
    pushed = await visitor.receive_json_from(timeout=5)
    assert pushed["message"]["body"] == "Hello!"  # the system event never reaches the visitor
    await other_inbox.disconnect()
    await visitor.disconnect()


@pytest.mark.parametrize(
    ("host", "origin", "who"),
    [
        ("alpha.localhost", "https://evil.example", "owner_a"),  # another site's page, the agent's cookie
        ("alpha.localhost", None, "owner_a"),
        ("alpha.localhost", "http://alpha.localhost", None),  # no session
        ("alpha.localhost", "http://alpha.localhost", "owner_b"),  # logged in, not a member of alpha
        ("nope.localhost", "http://nope.localhost", "owner_a"),
    ],
)
async def test_strangers_and_foreign_pages_are_refused(tx_workspaces, host, origin, who):
    from asgiref.sync import sync_to_async

    user = getattr(tx_workspaces, who) if who else None
    session = await sync_to_async(_session_cookie)(user, host) if user else None
    socket = inbox_socket(host, origin=origin, session=session)
    await socket.connect()
    refused = await socket.receive_json_from(timeout=5)
    assert refused["type"] == "refused"
    assert (await socket.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4403}


async def test_a_removed_member_s_open_inbox_is_closed(tx_workspaces):
    from asgiref.sync import sync_to_async

    from tenants import services as tenant_services

    membership = await sync_to_async(Membership.objects.create)(
        user=tx_workspaces.owner_b, workspace=tx_workspaces.alpha, role=Membership.Role.AGENT
    )
    inbox = await _open_inbox(tx_workspaces.owner_b)

    await sync_to_async(tenant_services.membership_remove)(membership=membership, by=tx_workspaces.owner_a)

    assert (await _next(inbox))["type"] == "refused"
    assert (await inbox.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4403}


async def test_presence_is_shared_and_a_new_conversation_goes_to_the_agent_at_the_inbox(
    site_a, tx_workspaces
):
    from asgiref.sync import sync_to_async

    await sync_to_async(Membership.objects.create)(
        user=tx_workspaces.owner_b, workspace=tx_workspaces.alpha, role=Membership.Role.AGENT
    )
    await in_workspace(
        site_a.schema_name, services.inbox_settings_update, auto_assign=True, auto_assign_limit=5
    )
    ana = await _open_inbox(tx_workspaces.owner_a)
    ben = await _open_inbox(tx_workspaces.owner_b)

    async def presence_frame(socket) -> str:
        while (frame := await socket.receive_json_from(timeout=5))["type"] != "presence":
            pass
        return frame["html"]

    await ben.send_json_to({"type": "away", "away": True})
    html = await presence_frame(ana)
    while "Ben Owner, away" not in html:
        html = await presence_frame(ana)
    assert "Ana Owner, online" in html

    visitor, _ = await connect_visitor(site_a)
    await visitor.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "Anyone?"})
    conversation_id = (await visitor.receive_json_from(timeout=5))["message"]["conversation_id"]
    conversation = await in_workspace(site_a.schema_name, Conversation.objects.get, pk=conversation_id)
    assert conversation.assignee_id == tx_workspaces.owner_a.pk  # Ben is away

    await ben.disconnect()
    html = await presence_frame(ana)
    while "Ben Owner, offline" not in html:
        html = await presence_frame(ana)
    await ana.disconnect()
    await visitor.disconnect()


async def test_a_mention_in_a_note_reaches_that_agent_only(site_a, tx_workspaces):
    from asgiref.sync import sync_to_async

    await sync_to_async(Membership.objects.create)(
        user=tx_workspaces.owner_b, workspace=tx_workspaces.alpha, role=Membership.Role.AGENT
    )
    ben = await _open_inbox(tx_workspaces.owner_b)
    ana = await _open_inbox(tx_workspaces.owner_a)
    visitor, _ = await connect_visitor(site_a)
    await visitor.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "Refund?"})
    conversation_id = (await visitor.receive_json_from(timeout=5))["message"]["conversation_id"]

    def note():
        conversation = Conversation.objects.get(pk=conversation_id)
        services.message_from_agent(
            conversation=conversation, author=tx_workspaces.owner_a, private=True,
            body="@ben can you check the refund? (email me@ana.example is not a mention)",
        )  # fmt: skip

    await in_workspace(site_a.schema_name, note)
    while (frame := await _next(ben))["type"] != "mention":
        pass
    assert frame["announce"].startswith("Ana Owner mentioned you: @ben can you check")
    assert frame["notify"]["conversation_id"] == conversation_id
    ana_frames = []
    while not await ana.receive_nothing(timeout=0.5):
        ana_frames.append((await ana.receive_json_from())["type"])
    assert "update" in ana_frames and "mention" not in ana_frames  # the author is never mentioned
    for socket in (ana, ben, visitor):
        await socket.disconnect()


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"type": "shout"}'])
async def test_malformed_frames_get_an_error_and_the_inbox_stays_open(tx_workspaces, text):
    inbox = await _open_inbox(tx_workspaces.owner_a)
    await inbox.send_to(text_data=text)
    error = await _next(inbox)
    assert (error["type"], error["code"]) == ("error", "invalid_frame")
    await inbox.send_json_to({"type": "away", "away": True})  # still served: the team hears of it
    # Presence frames from before the change may come first; every one of them has "Set me away".
    while (frame := await inbox.receive_json_from(timeout=5))["type"] == "presence" and (
        "Ana Owner, away" not in frame["html"]
    ):
        pass
    assert frame["type"] == "presence" and "Ana Owner, away" in frame["html"]
    await inbox.disconnect()


async def test_presence_read_by_many_at_once_is_one_read_and_each_gets_its_own_sets(tx_workspaces):
    from inbox import presence

    schema = tx_workspaces.alpha.schema_name
    await presence.socket_beat(schema, 7, "inbox.one")
    await presence.away_set(schema, 8, True)
    reads = [asyncio.create_task(presence.presence(schema)) for _ in range(50)]
    await asyncio.sleep(0)
    assert len(presence._reading[asyncio.get_running_loop()]) == 1
    answers = await asyncio.gather(*reads)
    assert all(answer == ({7}, {8}) for answer in answers)
    answers[0][0].add(99)  # a caller's sets are its own
    assert answers[1][0] == {7}
    await presence.socket_gone(schema, 7, "inbox.one")
    await presence.away_set(schema, 8, False)
    assert await presence.presence(schema) == (set(), set())  # a later read reads again
