"""The inbox's periodic jobs (inbox/tasks.py), across every workspace."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from inbox import services
from inbox.models import Conversation
from inbox.tests.sites import in_schema, visitor_writes


def test_the_periodic_job_wakes_snoozed_conversations_in_every_workspace(workspace_a, website_a, owner_a):
    from inbox.tasks import wake_snoozed_conversations

    conversation = visitor_writes(workspace_a, website_a, "Later")
    in_schema(
        workspace_a, services.conversation_status_set, conversation=conversation, status="snoozed",
        by=owner_a, snoozed_until=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip
    assert wake_snoozed_conversations() == 0
    in_schema(
        workspace_a, lambda: Conversation.objects.update(snoozed_until=timezone.now() - timedelta(seconds=1))
    )
    assert wake_snoozed_conversations() == 1
    assert in_schema(workspace_a, Conversation.objects.get, pk=conversation.pk).status == "open"
    assert connection.schema_name == "public"  # the job leaves no schema behind
