"""Messages (inbox/services/messages.py): the visitor's one-statement write, its ids' chain and
resends, waking and reopening, pushes that may fail; the agent's reply."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import services
from inbox.exceptions import MessageInvalid, MessageTooLong
from inbox.models import Contact, Conversation, Message

pytestmark = pytest.mark.django_db

CLIENT_ID = "0b6c9f4e-2a7d-4c1e-8f3b-5d9e1a2b3c4d"


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


def counted(workspace) -> tuple[int, int]:
    """The conversations and messages in the workspace's activity counters, all hours together."""
    from django.db.models import Sum

    from tenants.models import WorkspaceActivity

    found = WorkspaceActivity.objects.filter(workspace=workspace).aggregate(
        conversations=Sum("conversations"), messages=Sum("messages")
    )
    return found["conversations"] or 0, found["messages"] or 0


def test_the_activity_counters_count_conversations_started_and_messages_written_by_people(
    visitor, workspace_a, owner_a, workspace_b
):
    first, _ = services.message_from_visitor(contact_id=visitor.pk, body="hi", client_id=CLIENT_ID)
    services.message_from_visitor(contact_id=visitor.pk, body="hi", client_id=CLIENT_ID)  # a resend
    services.message_from_visitor(contact_id=visitor.pk, body="anyone?")
    assert counted(workspace_a) == (1, 2)

    conversation = Conversation.objects.get(pk=first.conversation_id)
    services.message_from_agent(conversation=conversation, author=owner_a, body="Yes, hello")
    services.message_from_agent(conversation=conversation, author=owner_a, body="VIP", private=True)
    assert counted(workspace_a) == (1, 4)
    # System events say what someone did; they are not messages written.
    services.conversation_status_set(
        conversation=conversation,
        status="snoozed",
        by=owner_a,
        snoozed_until=timezone.now() + timedelta(hours=1),
    )
    services.message_from_visitor(contact_id=visitor.pk, body="still there?")  # wakes it: an event too
    assert counted(workspace_a) == (1, 5)
    services.conversation_status_set(conversation=conversation, status="resolved", by=owner_a)
    services.message_from_visitor(contact_id=visitor.pk, body="one more thing")  # a new conversation
    assert counted(workspace_a) == (2, 6)
    assert counted(workspace_b) == (0, 0)


def test_a_message_and_its_count_commit_or_roll_back_together(visitor, workspace_a, owner_a):
    from django.db import transaction

    first, _ = services.message_from_visitor(contact_id=visitor.pk, body="hi")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.message_from_visitor(contact_id=visitor.pk, body="lost")
        services.message_from_agent(conversation=first.conversation, author=owner_a, body="lost too")
        raise RuntimeError("rolled back")
    with pytest.raises(MessageInvalid):
        services.message_from_agent(conversation=first.conversation, author=owner_a, body=" ")
    assert counted(workspace_a) == (1, 1)
