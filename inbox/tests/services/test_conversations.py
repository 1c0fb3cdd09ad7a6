"""Conversations (inbox/services/conversations.py): assigning to members only, waking snoozed ones,
a member leaving, round-robin assignment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import services
from inbox.exceptions import (
    AssigneeNotMember,
    InboxError,
)
from inbox.models import Conversation, Message
from inbox.tests.sites import in_schema, visitor_writes
from tenants.models import Membership


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


def test_a_snoozed_conversation_reopens_by_itself_or_when_the_visitor_writes(workspace_a, website_a, owner_a):
    first = visitor_writes(workspace_a, website_a, "One")
    second = visitor_writes(workspace_a, website_a, "Two")

    def snooze_both():
        later = timezone.now() + timedelta(hours=1)
        for conversation in (first, second):
            services.conversation_status_set(
                conversation=conversation, status="snoozed", by=owner_a, snoozed_until=later
            )
        Conversation.objects.filter(pk=first.pk).update(snoozed_until=timezone.now() - timedelta(seconds=1))
        woken = services.conversations_wake_snoozed()
        services.message_from_visitor(contact_id=second.contact_id, body="Still there?")
        return woken, list(Conversation.objects.order_by("id").values_list("status", "snoozed_until"))

    woken, states = in_schema(workspace_a, snooze_both)
    assert woken == 1 and states == [("open", None), ("open", None)]


def test_removing_a_member_unassigns_their_open_conversations(workspace_a, website_a, owner_a, owner_b):
    from tenants import services as tenant_services
    from tenants.exceptions import LastOwner

    membership = Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.AGENT)
    conversation = visitor_writes(workspace_a, website_a, "Hello?")
    in_schema(
        workspace_a, services.conversation_assign, conversation=conversation, assignee=owner_b, by=owner_a
    )

    tenant_services.membership_remove(membership=membership, by=owner_a)

    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert in_schema(workspace_a, Conversation.objects.get, pk=conversation.pk).assignee_id is None
    assert in_schema(
        workspace_a, Message.objects.filter(body="Ana Owner unassigned this conversation").exists
    )
    with pytest.raises(LastOwner):
        tenant_services.membership_remove(
            membership=Membership.objects.get(user=owner_a, workspace=workspace_a), by=owner_a
        )


def test_auto_assignment_goes_round_robin_to_available_agents_under_the_limit(
    workspace_a, website_a, owner_a, owner_b, django_user_model
):
    Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.AGENT)
    stranger = django_user_model.objects.create_user("stranger@example.com", "x")

    def assign(online, away=frozenset()):
        conversation = visitor_writes(workspace_a, website_a, "Hello")
        chosen = in_schema(
            workspace_a, services.conversation_auto_assign, conversation_id=conversation.pk,
            online_user_ids=set(online), away_user_ids=set(away),
        )  # fmt: skip
        return chosen.pk if chosen else None

    a, b = owner_a.pk, owner_b.pk
    assert assign({a, b}) is None  # off by default
    in_schema(workspace_a, services.inbox_settings_update, auto_assign=True, auto_assign_limit=2)
    assert [assign({a, b}), assign({a, b}), assign({a, b, stranger.pk})] == [*sorted([a, b]), min(a, b)]
    assert assign({a, b}, away={min(a, b)}) == max(a, b)  # away takes no chats
    assert assign({a, b}) is None  # both at their limit of 2 open conversations
    assert assign(set()) is None
    events = in_schema(workspace_a, lambda: Message.objects.filter(body__contains="round robin").count())
    assert events == 4
    with pytest.raises(InboxError):
        in_schema(workspace_a, services.inbox_settings_update, auto_assign=True, auto_assign_limit=0)
