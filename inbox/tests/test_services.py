"""Inbox services on a real schema: origins, message order and idempotency, conversations, pushes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import services
from inbox.exceptions import AssigneeNotMember, MessageInvalid, MessageTooLong, WebsiteOriginInvalid
from inbox.models import Contact, Conversation, Message
from inbox.origins import origin_normalize, origins_parse
from tenants.context import workspace_schema
from tenants.models import Membership

pytestmark = pytest.mark.django_db

CLIENT_ID = "0b6c9f4e-2a7d-4c1e-8f3b-5d9e1a2b3c4d"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("https://Shop.Example.com", "https://shop.example.com"),
        ("https://shop.example.com:443/", "https://shop.example.com"),
        ("http://localhost:8001", "http://localhost:8001"),
        ("http://example.com:80", "http://example.com"),
        ("https://[::1]:8443", "https://[::1]:8443"),
    ],
)
def test_origins_are_normalised_as_browsers_send_them(raw, normalized):
    assert origin_normalize(raw) == normalized


def test_origins_parse_reports_every_bad_line_at_once():
    with pytest.raises(WebsiteOriginInvalid) as error:
        origins_parse("https://ok.example\nftp://files.example\nhttps://x.example/path")
    assert "ftp://files.example" in str(error.value) and "https://x.example/path" in str(error.value)
    assert origins_parse("https://a.example, https://A.example\n\nhttps://b.example") == [
        "https://a.example",
        "https://b.example",
    ]


@pytest.fixture
def visitor(workspace_a):
    with workspace_schema(workspace_a.schema_name):
        website, _ = services.website_create(
            workspace=workspace_a, name="S", allowed_origins="https://s.example"
        )
        contact, _ = services.contact_for_visitor(website=website, token=None, page_url="https://s.example/")
        yield contact


def test_messages_chain_their_ids_and_a_resend_is_stored_once(visitor, owner_a):
    first, created = services.message_from_visitor(
        contact_id=visitor.pk, body="one", client_id="7f9c2ba4-e88f-4d0b-9c5e-1d2f3a4b5c6d"
    )
    again, created_again = services.message_from_visitor(
        contact_id=visitor.pk, body="one", client_id="7f9c2ba4-e88f-4d0b-9c5e-1d2f3a4b5c6d"
    )
    assert created and not created_again and again.pk == first.pk
    reply = services.message_from_agent(conversation=first.conversation, author=owner_a, body="two")
    second, _ = services.message_from_visitor(contact_id=visitor.pk, body="three")
    assert first.pk < reply.pk < second.pk
    visitor.refresh_from_db()
    assert visitor.last_message_id == second.pk
    assert Message.objects.filter(contact=visitor).count() == 3
    conversation = Conversation.objects.get(contact=visitor)
    assert conversation.first_agent_reply_at == reply.created_at
    assert conversation.last_message_at == second.created_at


@pytest.mark.parametrize(
    ("body", "error"),
    [("", MessageInvalid), ("  \n ", MessageInvalid), (None, MessageInvalid), ("x" * 5001, MessageTooLong)],
)
def test_bad_bodies_are_refused(visitor, body, error):
    with pytest.raises(error):
        services.message_from_visitor(contact_id=visitor.pk, body=body)
    assert not Message.objects.exists()


def test_a_visitor_writing_after_resolution_starts_a_new_conversation_and_wakes_snoozed_ones(visitor):
    first, _ = services.message_from_visitor(contact_id=visitor.pk, body="hi")
    Conversation.objects.filter(pk=first.conversation_id).update(status=Conversation.Status.SNOOZED)
    woken, _ = services.message_from_visitor(contact_id=visitor.pk, body="still there?")
    assert woken.conversation_id == first.conversation_id
    assert Conversation.objects.get(pk=first.conversation_id).status == Conversation.Status.OPEN

    Conversation.objects.filter(pk=first.conversation_id).update(status=Conversation.Status.RESOLVED)
    fresh, _ = services.message_from_visitor(contact_id=visitor.pk, body="new question")
    assert fresh.conversation_id != first.conversation_id


def test_a_visitor_waking_a_snoozed_conversation_says_so_in_the_thread_as_an_agent_reopening_does(
    visitor, owner_a, django_capture_on_commit_callbacks
):
    first, _ = services.message_from_visitor(contact_id=visitor.pk, body="hi")
    later = timezone.now() + timedelta(hours=1)
    for reopen in ("agent", "visitor"):
        services.conversation_status_set(
            conversation=first.conversation, status="snoozed", by=owner_a, snoozed_until=later
        )
        if reopen == "agent":
            services.conversation_status_set(conversation=first.conversation, status="open", by=owner_a)
        else:
            with django_capture_on_commit_callbacks() as pushes:
                woken, _ = services.message_from_visitor(contact_id=visitor.pk, body="still there?")
    thread = list(Message.objects.filter(conversation=first.conversation_id).order_by("id"))
    events = [(m.author_kind, m.body) for m in thread]
    assert events[-2:] == [("system", "The visitor reopened this conversation"), ("visitor", "still there?")]
    assert ("system", f"{owner_a.name} reopened this conversation") in events
    # The inbox hears of both (the event, then the message).
    assert len(pushes) == 2
    reopened = thread[-2]
    visitor.refresh_from_db()
    assert visitor.last_message_id == woken.pk  # the widget's chain skips events it does not show

    # A named visitor is named; a resend wakes nothing and writes no second event.
    Contact.objects.filter(pk=visitor.pk).update(name="Mia")
    services.conversation_status_set(
        conversation=first.conversation, status="snoozed", by=owner_a, snoozed_until=later
    )
    services.message_from_visitor(contact_id=visitor.pk, body="hello?", client_id=CLIENT_ID)
    services.message_from_visitor(contact_id=visitor.pk, body="hello?", client_id=CLIENT_ID)
    bodies = list(
        Message.objects.filter(pk__gt=reopened.pk, author_kind="system").values_list("body", flat=True)
    )
    assert (
        bodies[-1] == "Mia reopened this conversation" and bodies.count("Mia reopened this conversation") == 1
    )


def test_a_dead_redis_loses_no_message(visitor, settings, django_capture_on_commit_callbacks, caplog):
    # Pushes go to a Redis that is not there; the message is committed all the same.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        message, created = services.message_from_visitor(contact_id=visitor.pk, body="Is anyone there?")
    assert created and Message.objects.filter(pk=message.pk, body="Is anyone there?").exists()
    assert "clients will catch up by id" in caplog.text


def test_a_known_token_resumes_the_contact_and_an_unknown_one_gets_a_new_visitor(visitor):
    website = visitor.website
    contact, token = services.contact_for_visitor(website=website, token="not-a-real-token")
    assert contact.pk != visitor.pk and token != "not-a-real-token"
    again, same_token = services.contact_for_visitor(
        website=website, token=token, page_url="https://s.example/b"
    )
    assert again.pk == contact.pk and same_token == token and again.current_url == "https://s.example/b"


def test_a_visitors_hello_reads_messages_only_once_there_are_some(
    workspace_a, owner_a, django_assert_num_queries
):
    from inbox import widget

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


def test_a_conversation_goes_only_to_a_member_of_the_workspace_as_it_is_now(visitor, owner_a, owner_b):
    message, _ = services.message_from_visitor(contact_id=visitor.pk, body="hi")
    conversation = message.conversation
    with pytest.raises(AssigneeNotMember):
        services.conversation_assign(conversation=conversation, assignee=owner_b, by=owner_a)
    conversation.refresh_from_db()
    assert conversation.assignee_id is None
    assert not Message.objects.filter(conversation=conversation, author_kind="system").exists()

    services.conversation_assign(conversation=conversation, assignee=owner_a, by=owner_a)
    Membership.objects.filter(user=owner_a).delete()  # they leave: no longer assignable
    with pytest.raises(AssigneeNotMember):
        services.conversation_assign(conversation=conversation, assignee=owner_a, by=None)
    services.conversation_assign(conversation=conversation, assignee=None, by=None)  # nobody: always
    conversation.refresh_from_db()
    assert conversation.assignee_id is None
