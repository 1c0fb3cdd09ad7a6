"""/conversations (api/routers/conversations.py, and the replies of api/routers/messages.py): pages
by cursor with the inbox's filters; a read-write key replies, sets status and assignee as its maker."""

from __future__ import annotations

import pytest

from api.tests.api_clients import conversations
from inbox.models import Conversation
from tenants.context import workspace_schema

pytestmark = pytest.mark.django_db


def test_conversations_page_by_cursor_and_filter_as_in_the_inbox(a, workspace_a):
    ids = conversations(workspace_a, 5)
    first = a.get("/api/v1/conversations?limit=2").json()
    assert [c["id"] for c in first["data"]] == ids[::-1][:2]
    assert set(first["data"][0]) == {
        "id", "website_id", "contact_id", "status", "priority", "assignee", "labels",
        "created_at", "last_message_at", "first_agent_reply_at", "resolved_at", "snoozed_until",
    }  # fmt: skip
    seen = [c["id"] for c in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = a.get("/api/v1/conversations", {"limit": 2, "cursor": cursor}).json()
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
    assert seen == ids[::-1]
    assert a.get("/api/v1/conversations?status=resolved").json()["data"] == []
    assert len(a.get("/api/v1/conversations?q=refunds").json()["data"]) == 5
    bad = a.get("/api/v1/conversations?limit=1000")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    assert bad.json()["error"]["details"][0]["location"][-1] == "limit"


def test_a_write_key_replies_sets_status_and_assignee_as_its_maker(a, workspace_a, owner_a):
    (conversation_id,) = conversations(workspace_a, 1)
    reply = a.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        {"body": "We refund within 14 days."},
        content_type="application/json",
    )
    assert reply.status_code == 201
    assert reply.json()["kind"] == "agent" and reply.json()["author"]["email"] == owner_a.email
    thread = a.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    assert [m["kind"] for m in thread["data"]] == ["visitor", "agent"]
    assigned = a.post(
        f"/api/v1/conversations/{conversation_id}/assignee",
        {"assignee_id": owner_a.pk},
        content_type="application/json",
    )
    assert assigned.json()["assignee"]["id"] == owner_a.pk
    stranger = a.post(
        f"/api/v1/conversations/{conversation_id}/assignee",
        {"assignee_id": 999999},
        content_type="application/json",
    )
    assert stranger.status_code == 400 and stranger.json()["error"]["code"] == "not_a_member"
    resolved = a.post(
        f"/api/v1/conversations/{conversation_id}/status",
        {"status": "resolved"},
        content_type="application/json",
    )
    assert resolved.json()["status"] == "resolved"
    snooze = a.post(
        f"/api/v1/conversations/{conversation_id}/status",
        {"status": "snoozed"},
        content_type="application/json",
    )
    assert snooze.status_code == 400 and snooze.json()["error"]["code"] == "invalid_action"
    with workspace_schema(workspace_a.schema_name):
        assert Conversation.objects.get().status == "resolved"


def test_replies_and_notes_written_through_the_api_are_counted_in_the_workspace_activity(a, workspace_a):
    from django.db.models import Sum

    from tenants.models import WorkspaceActivity

    def counted() -> dict:
        return WorkspaceActivity.objects.filter(workspace=workspace_a).aggregate(
            conversations=Sum("conversations"), messages=Sum("messages")
        )

    (conversation_id,) = conversations(workspace_a, 1)  # a visitor's first message
    assert counted() == {"conversations": 1, "messages": 1}
    for body in ({"body": "On its way."}, {"body": "Check the courier", "private": True}):
        path = f"/api/v1/conversations/{conversation_id}/messages"
        assert a.post(path, body, content_type="application/json").status_code == 201
    assert a.post(path, {"body": ""}, content_type="application/json").status_code == 422
    assert counted() == {"conversations": 1, "messages": 3}
