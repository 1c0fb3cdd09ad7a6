"""The inbox socket of an impersonating session, over the real Redis channel layer: it shows the inbox
and changes nothing (no presence, typing and away refused with the reason), closes when the
impersonation's time is up, and is not let in once it is over."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from accounts.models import User
from inbox import presence
from inbox.tests.sites import fresh_channel_layer_pools  # noqa: F401 - an autouse fixture
from staff import services
from staff.models import AuditEntry, ImpersonationSession
from staff.tests.conftest import make_staff
from tenants.models import Membership

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

HOST = "alpha.localhost"


def _impersonating_session(workspace, *, expires_in: timedelta | None = None) -> tuple[str, User]:
    """The session cookie of a browser on alpha's host that entered an impersonation of an agent."""
    staff = make_staff()
    agent = User.objects.create_user("ida@example.com", "ida-password-12")
    Membership.objects.create(user=agent, workspace=workspace, role=Membership.Role.AGENT)
    _, url = services.impersonation_start(staff=staff, workspace=workspace, member=agent, reason="Ticket 5")
    link = urlsplit(url)
    browser = Client(HTTP_HOST=HOST)
    assert browser.get(f"{link.path}?{link.query}")["Location"] == "/"
    if expires_in is not None:
        ImpersonationSession.objects.update(expires_at=timezone.now() + expires_in)
    return browser.cookies["parley_session"].value, agent


def _socket(session: str):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    headers = [(b"host", HOST.encode()), (b"origin", f"http://{HOST}".encode()),
               (b"cookie", f"parley_session={session}".encode())]  # fmt: skip
    return WebsocketCommunicator(application, "/ws/inbox/", headers=headers)


async def test_the_socket_shows_the_inbox_and_refuses_every_write(tx_workspaces):
    session, agent = await sync_to_async(_impersonating_session)(tx_workspaces.alpha)
    socket = _socket(session)
    connected, _ = await socket.connect()
    assert connected
    assert await socket.receive_json_from(timeout=5) == {"type": "ready", "read_only": True}

    await socket.send_json_to({"type": "away", "away": True})
    refused = await socket.receive_json_from(timeout=5)
    assert refused["type"] == "error" and refused["code"] == "read_only"
    assert refused["message"].startswith("Read-only: you are viewing Alpha Support as ida@example.com.")
    # A beat is dropped without a word: the next answer is the typing frame's refusal.
    await socket.send_json_to({"type": "beat"})
    await socket.send_json_to({"type": "typing", "conversation_id": 1, "is_typing": True})
    assert (await socket.receive_json_from(timeout=5))["code"] == "read_only"
    # Reading goes on: a view is taken (no error), and the member never showed as present.
    await socket.send_json_to({"type": "view", "filters": {"tab": "all"}})
    online, away = await presence.presence(tx_workspaces.alpha.schema_name)
    assert agent.pk not in online and agent.pk not in away
    await socket.disconnect()


async def test_the_socket_closes_when_the_time_is_up(tx_workspaces):
    session, _ = await sync_to_async(_impersonating_session)(
        tx_workspaces.alpha, expires_in=timedelta(seconds=1)
    )
    socket = _socket(session)
    assert (await socket.connect())[0]
    assert (await socket.receive_json_from(timeout=5))["read_only"] is True
    ended = await socket.receive_json_from(timeout=10)
    assert ended == {"type": "refused", "message": "This read-only view has ended: reload the page."}
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


async def test_a_socket_of_an_impersonation_that_is_over_is_not_let_in(tx_workspaces):
    session, _ = await sync_to_async(_impersonating_session)(tx_workspaces.alpha)
    await sync_to_async(ImpersonationSession.objects.update)(expires_at=timezone.now() - timedelta(minutes=1))
    socket = _socket(session)
    assert (await socket.connect())[0]
    refused = await socket.receive_json_from(timeout=5)
    assert refused == {"type": "refused", "message": "This read-only view has ended: reload the page."}
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
    stop = await sync_to_async(AuditEntry.objects.get)(action="impersonate_stop")
    assert stop.reason == "Time ran out"
