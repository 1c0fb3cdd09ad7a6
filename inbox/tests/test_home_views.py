"""A workspace's overview: its first steps, its team."""

from __future__ import annotations

import re

import pytest

from conftest import host_client

pytestmark = pytest.mark.django_db


def test_home_lists_the_team(client_a):
    html = client_a.get("/").content.decode()
    assert "Alpha Support" in html and "owner-a@example.com" in html and "Ana Owner" in html


def test_the_overview_shows_first_steps_that_tick_themselves_off(client_a, workspace_a, owner_a, owner_b):
    from inbox import services as inbox_services
    from tenants.context import run_in_workspace
    from tenants.models import Membership

    def done_count() -> int | None:
        page = client_a.get("/").content.decode()
        found = re.search(r"(\d) of 4 done", page)
        return int(found.group(1)) if found else None

    assert done_count() == 0
    website, _ = run_in_workspace(
        workspace_a.schema_name, inbox_services.website_create, workspace=workspace_a, name="Shop",
        allowed_origins="https://shop.example",
    )  # fmt: skip
    assert done_count() == 1
    contact, _ = run_in_workspace(
        workspace_a.schema_name, inbox_services.contact_for_visitor, website=website, token=None
    )
    message, _ = run_in_workspace(
        workspace_a.schema_name, inbox_services.message_from_visitor, contact_id=contact.pk, body="Hi"
    )
    assert done_count() == 2
    Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.AGENT)
    assert done_count() == 3
    # An agent is not asked to set the workspace up.
    assert (
        "Get ready for your first visitor"
        not in host_client("alpha.localhost", owner_b).get("/").content.decode()
    )

    def reply():
        from inbox.models import Conversation

        inbox_services.message_from_agent(
            conversation=Conversation.objects.get(pk=message.conversation_id), author=owner_a, body="Hello!"
        )

    run_in_workspace(workspace_a.schema_name, reply)
    assert done_count() is None  # all done: the checklist is gone
