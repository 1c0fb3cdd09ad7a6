"""A suspended workspace's widget, on every way in: the socket (refused with 4423, and closed when the
suspension commits), the HTTP fallback (403 workspace_suspended, readable by the allowed origin; a
waiting poll answered at once), and the script, which is the same for every site. No message the
server acknowledged is lost, and the widget works again once the workspace is unsuspended."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from conftest import host_client
from inbox.models import Message
from inbox.tests.sites import ORIGIN_A, connect_visitor, widget_socket
from tenants import services as tenant_services
from tenants.context import in_public, in_workspace
from widget.tests.test_http_fallback import _client, _hello, _post

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

SUSPENDED = {
    "type": "refused",
    "code": 4423,
    "message": "The team cannot take messages here right now. Please try again later.",
}


async def _suspend(workspace) -> None:
    # As the staff console does it: committed, its pushes sent after the commit.
    await in_public(tenant_services.workspace_suspend, workspace=workspace, reason="Chargeback.")


async def _unsuspend(workspace) -> None:
    await in_public(tenant_services.workspace_unsuspend, workspace=workspace)


async def _bodies(schema: str) -> list[str]:
    return await in_workspace(
        schema, lambda: list(Message.objects.order_by("id").values_list("body", flat=True))
    )


async def test_a_suspended_workspace_refuses_the_socket_with_4423(site_a, tx_workspaces):
    await _suspend(tx_workspaces.alpha)
    socket = widget_socket(site_a.key, ORIGIN_A)
    connected, _ = await socket.connect()
    assert connected
    assert await socket.receive_json_from(timeout=5) == SUSPENDED
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4423}

    await _unsuspend(tx_workspaces.alpha)
    again, welcome = await connect_visitor(site_a)
    assert welcome["type"] == "welcome"
    await again.disconnect()


async def test_only_an_allowed_origin_learns_of_the_suspension(site_a, tx_workspaces):
    await _suspend(tx_workspaces.alpha)
    socket = widget_socket(site_a.key, "https://evil.example")
    await socket.connect()
    assert (await socket.receive_json_from(timeout=5))["code"] == 4403
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


async def test_open_sockets_close_when_the_suspension_commits_and_nothing_acked_is_lost(
    site_a, tx_workspaces
):
    socket, welcome = await connect_visitor(site_a)
    other_tab, _ = await connect_visitor(site_a, token=welcome["token"])
    stranger, _ = await connect_visitor(site_a)  # another visitor of the same website
    client_id = str(uuid.uuid4())
    await socket.send_json_to({"type": "message", "client_id": client_id, "body": "Before"})
    ack = await socket.receive_json_from(timeout=5)
    assert ack["type"] == "ack" and ack["created"] is True
    await other_tab.receive_json_from(timeout=5)  # its push of "Before"

    await _suspend(tx_workspaces.alpha)
    for each in (socket, other_tab, stranger):
        assert await each.receive_json_from(timeout=5) == SUSPENDED
        assert await each.receive_output(timeout=5) == {"type": "websocket.close", "code": 4423}
    assert await _bodies(site_a.schema_name) == ["Before"]

    # Unsuspended, the widget reconnects on the next page view and sends what it had no ack for
    # (here "After", queued while refused) and again what it had ("Before" is stored once).
    await _unsuspend(tx_workspaces.alpha)
    back, welcome_back = await connect_visitor(site_a, token=welcome["token"], after_id=0)
    assert [m["body"] for m in welcome_back["messages"]] == ["Before"]
    await back.send_json_to({"type": "message", "client_id": client_id, "body": "Before"})
    assert (await back.receive_json_from(timeout=5))["created"] is False
    await back.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "After"})
    assert (await back.receive_json_from(timeout=5))["created"] is True
    assert await _bodies(site_a.schema_name) == ["Before", "After"]
    await back.disconnect()


async def test_another_workspace_s_widget_is_untouched(site_a, site_b, tx_workspaces):
    socket_b, _ = await connect_visitor(site_b)
    await _suspend(tx_workspaces.alpha)
    await socket_b.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "Still here"})
    assert (await socket_b.receive_json_from(timeout=5))["type"] == "ack"
    await socket_b.disconnect()


# --- the HTTP fallback


async def test_every_fallback_endpoint_answers_403_workspace_suspended_to_the_allowed_origin(
    site_a, tx_workspaces
):
    welcome = await _hello(site_a)
    client = _client(token=welcome["token"])
    await _suspend(tx_workspaces.alpha)
    for method, path, body in (
        ("POST", "hello", {"page_url": f"{ORIGIN_A}/"}),
        ("POST", "messages", {"client_id": str(uuid.uuid4()), "body": "Refused"}),
        ("POST", "identify", {"email": "v@example.com"}),
        ("GET", "poll", None),
        ("OPTIONS", "messages", None),
    ):
        url = f"/widget/api/{path}?site={site_a.key}&after=0"
        answer = await client.request(method, url, json.dumps(body).encode() if body else b"")
        assert answer.status_code == 403, path
        assert answer.json() == {
            "type": "error",
            "code": "workspace_suspended",
            "message": SUSPENDED["message"],
        }, path
        assert answer["Access-Control-Allow-Origin"] == ORIGIN_A  # the widget can read why
    assert await _bodies(site_a.schema_name) == []  # never accepted, so never acknowledged

    foreign = await _post(_client("https://evil.example"), "/widget/api/hello", site_a, {})
    assert foreign.status_code == 403 and foreign.json()["code"] == "refused"
    assert "Access-Control-Allow-Origin" not in foreign


async def test_a_waiting_poll_is_answered_at_once_when_the_workspace_is_suspended(site_a, tx_workspaces):
    welcome = await _hello(site_a)
    client = _client(token=welcome["token"])

    async def suspend_soon():
        await asyncio.sleep(0.5)
        await _suspend(tx_workspaces.alpha)

    started = time.monotonic()
    polled, _ = await asyncio.gather(
        client.get(f"/widget/api/poll?site={site_a.key}&after=0"), suspend_soon()
    )
    assert time.monotonic() - started < 10  # woken by the suspension, not by the 25 s timeout
    assert polled.status_code == 403 and polled.json()["code"] == "workspace_suspended"
    assert polled["Access-Control-Allow-Origin"] == ORIGIN_A


async def test_the_script_is_served_whatever_the_workspace(site_a, tx_workspaces):
    # /widget.js names no site: it is the same file for every page, cached by browsers and CDNs. The
    # refusal comes from the socket (or fallback) it opens, which knows the site.
    await _suspend(tx_workspaces.alpha)
    script = await sync_to_async(host_client(settings.PARLEY_BASE_DOMAIN).get)("/widget.js")
    assert script.status_code == 200 and b"4423" in script.content
