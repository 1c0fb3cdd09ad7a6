"""What a widget may do (widget/services.py), whatever the transport: hello, and a message within the
visitor's and the address's limits."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async

from inbox import services
from inbox.exceptions import VisitorRateLimited
from inbox.models import Message
from tenants.context import run_in_workspace, workspace_schema
from widget import services as widget


@pytest.mark.django_db
def test_a_visitors_hello_reads_messages_only_once_there_are_some(
    workspace_a, owner_a, django_assert_num_queries
):
    with workspace_schema(workspace_a.schema_name):
        website, _ = services.website_create(
            workspace=workspace_a, name="S", allowed_origins="https://s.example"
        )
        site = widget.WidgetSite(workspace_a.schema_name, website)
        hello = widget.hello.__wrapped__  # its body, in this test's transaction and schema
        with django_assert_num_queries(4):  # savepoint, the contact, its webhook event, release
            fresh = hello(site, token=None, after_id=0, page_url="https://s.example/")
        assert fresh["messages"] == [] and fresh["has_agent_reply"] is False and fresh["last_id"] is None
        with django_assert_num_queries(2):  # a page view of a visitor who never wrote: find, touch
            again = hello(site, token=fresh["token"], after_id=0, page_url="https://s.example/")
        assert again["contact_id"] == fresh["contact_id"] and again["messages"] == []
        first, _ = services.message_from_visitor(contact_id=fresh["contact_id"], body="hello?")
        services.message_from_agent(conversation=first.conversation, author=owner_a, body="hi!")
        wrote = hello(site, token=fresh["token"], after_id=0, page_url="https://s.example/")
        assert [m["body"] for m in wrote["messages"]] == ["hello?", "hi!"] and wrote[
            "has_agent_reply"
        ] is True
        assert wrote["messages"][1]["author_name"] == owner_a.name


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_message_past_the_visitors_limit_is_refused_and_stores_nothing(site_a, settings):
    settings.PARLEY_RATE_VISITOR_MESSAGES = 2
    site = await widget.site_for(site_a.key, site_a.origin)
    welcome = await widget.hello(site, token=None, after_id=0)
    contact_id = welcome["contact_id"]

    async def receive(body: str) -> dict:
        return await widget.visitor_message_receive(
            site, contact_id, body=body, client_id=str(uuid.uuid4()), ip="198.51.100.7"
        )

    acks = [await receive("one"), await receive("two")]
    assert [ack["message"]["body"] for ack in acks] == ["one", "two"] and all(ack["created"] for ack in acks)
    with pytest.raises(VisitorRateLimited) as refused:
        await receive("three")
    assert refused.value.code == "rate_limited" and refused.value.http_status == 429
    stored = await database_sync_to_async(run_in_workspace)(
        site.schema_name, lambda: list(Message.objects.order_by("id").values_list("body", flat=True))
    )
    assert stored == ["one", "two"]
