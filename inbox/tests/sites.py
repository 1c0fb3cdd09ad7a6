"""Websites and visitors for the inbox's and the widget's tests: the sites of the two test workspaces,
a visitor's socket, and fresh channel-layer pools for every async test (each conftest imports them)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import pytest_asyncio
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator

from config.asgi import application
from inbox import services
from inbox.models import Conversation, Website
from tenants.context import close_async_pools, run_in_workspace
from widget import rate_limits

ORIGIN_A = "https://shop.alpha.example"
ORIGIN_B = "https://store.beta.example"


@dataclass
class Site:
    schema_name: str
    website: Website
    identity_secret: str
    origin: str

    @property
    def key(self) -> str:
        return self.website.site_key


def make_site(workspace, origin: str, **fields) -> Site:
    website, secret = run_in_workspace(
        workspace.schema_name,
        services.website_create,
        workspace=workspace,
        name=f"{workspace.name} site",
        allowed_origins=f"{origin}\nhttp://localhost:9999",
        **fields,
    )
    return Site(workspace.schema_name, website, secret, origin)


@pytest_asyncio.fixture(autouse=True)
async def fresh_channel_layer_pools():
    """channels-redis (and tenants.context, for PostgreSQL) keep their pools per event loop, and each
    async test has a loop of its own: close them when the test's loop ends, so no later test is
    handed a pool of a dead loop."""
    yield
    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()
    # channels-redis also keeps one receive lock per layer, bound to the loop of the receive that
    # made it: a consumer's receive a test's loop left pending would hand the next test a lock of a
    # dead loop ("bound to a different event loop"). Each test gets a layer of its own.
    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    await close_async_pools()
    await rate_limits.close()


@pytest.fixture
def website_and_secret_a(workspace_a) -> tuple[Website, str]:
    """A website of workspace A and its identity secret (shown only once, at creation)."""
    return run_in_workspace(
        workspace_a.schema_name,
        services.website_create,
        workspace=workspace_a,
        name="S",
        allowed_origins="https://s.example",
    )


@pytest.fixture
def website_a(website_and_secret_a) -> Website:
    return website_and_secret_a[0]


@pytest.fixture
def site_a(tx_workspaces) -> Site:
    return make_site(tx_workspaces.alpha, ORIGIN_A)


@pytest.fixture
def site_b(tx_workspaces) -> Site:
    return make_site(tx_workspaces.beta, ORIGIN_B)


def widget_socket(site_key: str | None, origin: str | None) -> WebsocketCommunicator:
    path = "/ws/widget/" + (f"?site={site_key}" if site_key is not None else "")
    headers = [(b"origin", origin.encode())] if origin else []
    headers.append((b"user-agent", b"pytest-visitor/1.0"))
    return WebsocketCommunicator(application, path, headers=headers)


async def connect_visitor(
    site: Site, *, token: str | None = None, after_id: int = 0
) -> tuple[WebsocketCommunicator, dict]:
    socket = widget_socket(site.key, site.origin)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to(
        {"type": "hello", "token": token, "after_id": after_id, "page_url": f"{site.origin}/pricing"}
    )
    welcome = await socket.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome", welcome
    return socket, welcome


def visitor_writes(workspace, website, body: str, *, name: str = "") -> Conversation:
    """A new visitor of `website` (named `name`) writes `body`: their conversation."""

    def write():
        contact, _ = services.contact_for_visitor(website=website, token=None)
        if name:
            contact.name = name
            contact.save(update_fields=["name"])
        message, _ = services.message_from_visitor(contact_id=contact.pk, body=body)
        return Conversation.objects.get(pk=message.conversation_id)

    return run_in_workspace(workspace.schema_name, write)


def in_schema(workspace, func, *args, **kwargs):
    """`func(*args, **kwargs)` inside the workspace's schema."""
    return run_in_workspace(workspace.schema_name, func, *args, **kwargs)
