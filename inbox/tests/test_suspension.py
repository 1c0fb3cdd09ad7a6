"""A suspended workspace's inbox socket: refused on connect, and closed when the suspension commits."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from inbox.tests.test_agent_consumer import _next, _open_inbox, _session_cookie, inbox_socket
from tenants import services as tenant_services
from tenants.context import in_public

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

REFUSED = {
    "type": "refused",
    "message": "This workspace is suspended: its inbox is closed. Reload the page to see more.",
}


async def test_a_suspended_workspace_s_inbox_socket_is_refused_with_4423(tx_workspaces):
    await in_public(tenant_services.workspace_suspend, workspace=tx_workspaces.alpha, reason="Chargeback.")
    session = await sync_to_async(_session_cookie)(tx_workspaces.owner_a, "alpha.localhost")
    socket = inbox_socket("alpha.localhost", origin="http://alpha.localhost", session=session)
    connected, _ = await socket.connect()
    assert connected
    assert await socket.receive_json_from(timeout=5) == REFUSED
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4423}

    await in_public(tenant_services.workspace_unsuspend, workspace=tx_workspaces.alpha)
    again = await _open_inbox(tx_workspaces.owner_a)  # "ready"
    await again.disconnect()


async def test_open_inboxes_close_when_the_suspension_commits(tx_workspaces):
    inbox_a = await _open_inbox(tx_workspaces.owner_a)
    inbox_b = await _open_inbox(tx_workspaces.owner_b, host="beta.localhost")

    await in_public(tenant_services.workspace_suspend, workspace=tx_workspaces.alpha, reason="Chargeback.")

    assert await _next(inbox_a) == REFUSED
    assert await inbox_a.receive_output(timeout=5) == {"type": "websocket.close", "code": 4423}
    # Another workspace's stays open: nothing but its own presence updates reach it.
    while not await inbox_b.receive_nothing(timeout=0.5):
        assert (await inbox_b.receive_json_from())["type"] == "presence"
    await inbox_b.disconnect()
