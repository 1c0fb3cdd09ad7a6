"""A site key of workspace A reaches nothing of workspace B, and two workspaces sharing one worker
thread never see each other's schema."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async

from inbox.models import Contact, Message
from inbox.tests.sites import connect_visitor
from tenants.context import in_workspace, run_in_workspace

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _bodies(schema: str) -> list[str]:
    return run_in_workspace(
        schema, lambda: list(Message.objects.order_by("id").values_list("body", flat=True))
    )


async def _send(socket, body: str) -> dict:
    await socket.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": body})
    ack = await socket.receive_json_from(timeout=5)
    assert ack["type"] == "ack" and ack["message"]["body"] == body, ack
    return ack


async def test_a_token_from_workspace_b_means_nothing_to_a_site_key_of_workspace_a(site_a, site_b):
    socket_b, welcome_b = await connect_visitor(site_b)
    ack_b = await _send(socket_b, "B's secret question")

    # A visitor of A presents B's token and asks for everything from id 0.
    socket_a, welcome_a = await connect_visitor(site_a, token=welcome_b["token"], after_id=0)
    assert welcome_a["token"] != welcome_b["token"]  # an unknown token gets a fresh visitor
    assert welcome_a["messages"] == []
    await socket_a.send_json_to({"type": "sync", "after_id": 0})
    assert (await socket_a.receive_json_from(timeout=5))["messages"] == []

    # Ids guessed from B mean A's own rows or nothing: the sync is scoped to the visitor.
    await socket_a.send_json_to({"type": "sync", "after_id": ack_b["id"] - 1})
    assert (await socket_a.receive_json_from(timeout=5))["messages"] == []
    await _send(socket_a, "A's question")

    assert await database_sync_to_async(_bodies)(site_a.schema_name) == ["A's question"]
    assert await database_sync_to_async(_bodies)(site_b.schema_name) == ["B's secret question"]
    assert await in_workspace(site_a.schema_name, Contact.objects.count) == 1
    await socket_a.disconnect()
    await socket_b.disconnect()


async def test_a_workspace_b_push_never_reaches_a_visitor_of_a(site_a, site_b):
    socket_a, _ = await connect_visitor(site_a)
    socket_b, _ = await connect_visitor(site_b)
    await _send(socket_b, "for B only")
    assert await socket_a.receive_nothing(timeout=0.5)
    await socket_a.disconnect()
    await socket_b.disconnect()


async def test_two_workspaces_interleaving_on_one_worker_keep_to_their_own_schema(site_a, site_b):
    # All database work of both sockets runs on Channels' single database thread, alternating.
    sockets_a = [(await connect_visitor(site_a))[0] for _ in range(3)]
    sockets_b = [(await connect_visitor(site_b))[0] for _ in range(3)]

    async def chatter(sockets, label):
        for round_ in range(5):
            for i, socket in enumerate(sockets):
                await _send(socket, f"{label}-{i}-{round_}")

    await asyncio.gather(chatter(sockets_a, "A"), chatter(sockets_b, "B"))

    bodies_a = await database_sync_to_async(_bodies)(site_a.schema_name)
    bodies_b = await database_sync_to_async(_bodies)(site_b.schema_name)
    assert len(bodies_a) == len(bodies_b) == 15
    assert all(b.startswith("A-") for b in bodies_a) and all(b.startswith("B-") for b in bodies_b)
    for socket in sockets_a + sockets_b:
        assert await socket.receive_nothing(timeout=0.05)  # nobody got the other's pushes
        await socket.disconnect()
