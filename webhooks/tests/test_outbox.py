"""The outbox: every change records its events in its own transaction, in documented shapes, for the
endpoints that want them, with their jobs queued; a rollback leaves nothing."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction

from inbox import services as inbox
from inbox.models import Conversation, Label
from tenants.context import workspace_schema
from webhooks import services
from webhooks.models import Delivery, Event

pytestmark = pytest.mark.django_db

ALL_TYPES = [
    "conversation.created",
    "conversation.updated",
    "conversation.resolved",
    "message.created",
    "contact.created",
    "contact.updated",
]


@pytest.fixture
def in_a(workspace_a):
    with workspace_schema(workspace_a.schema_name):
        yield workspace_a


@pytest.fixture
def website(in_a):
    return inbox.website_create(workspace=in_a, name="S", allowed_origins="https://s.example")[0]


def endpoint(types=ALL_TYPES, **fields):
    return services.endpoint_create(url="http://127.0.0.1:9/hooks", event_types=types, **fields)[0]


def events() -> list[tuple[str, dict]]:
    return [(e.type, e.payload) for e in Event.objects.order_by("id")]


def jobs() -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args FROM procrastinate_jobs WHERE task_name = 'webhooks.tasks.deliver' ORDER BY id"
        )
        return [json.loads(row[0]) for row in cursor.fetchall()]


def test_nothing_is_recorded_while_no_endpoint_wants_an_event(website):
    contact, _ = inbox.contact_for_visitor(website=website, token=None)
    inbox.message_from_visitor(contact_id=contact.pk, body="Hello")
    assert events() == [] and jobs() == []


def test_a_visitors_first_message_records_the_contact_the_conversation_and_the_message(website, in_a):
    hook = endpoint()
    contact, _ = inbox.contact_for_visitor(website=website, token=None, page_url="https://s.example/p")
    message, _ = inbox.message_from_visitor(contact_id=contact.pk, body="Hello <b>there</b>")

    recorded = events()
    assert [t for t, _ in recorded] == ["contact.created", "conversation.created", "message.created"]
    for event_type, payload in recorded:
        assert set(payload) == {"type", "timestamp", "workspace", "data"}
        assert payload["type"] == event_type and payload["workspace"] == in_a.slug
        assert payload["timestamp"].endswith("Z")
    contact_data, conversation_data, message_data = (p["data"] for _, p in recorded)
    assert contact_data["id"] == contact.pk and contact_data["current_url"] == "https://s.example/p"
    assert conversation_data == {
        "id": message.conversation_id,
        "website_id": website.pk,
        "contact_id": contact.pk,
        "status": "open",
        "priority": "none",
        "assignee": None,
        "labels": [],
        "created_at": conversation_data["created_at"],
        "last_message_at": conversation_data["last_message_at"],
        "first_agent_reply_at": None,
        "resolved_at": None,
        "snoozed_until": None,
    }
    assert message_data == {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "contact_id": contact.pk,
        "kind": "visitor",
        "body": "Hello <b>there</b>",
        "author": None,
        "created_at": message.created_at.astimezone().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    # One delivery and one job per event, naming the workspace, the delivery and its token.
    deliveries = list(Delivery.objects.order_by("id"))
    assert [d.endpoint_id for d in deliveries] == [hook.pk] * 3
    assert jobs() == [
        {"schema_name": in_a.schema_name, "delivery_id": d.pk, "endpoint_id": hook.pk, "job_token": 1}
        for d in deliveries
    ]


def test_agent_replies_and_notes_and_conversation_changes(website, owner_a):
    everything = endpoint()
    with_notes = endpoint(types=["message.created"], include_private_notes=True)
    contact, _ = inbox.contact_for_visitor(website=website, token=None)
    message, _ = inbox.message_from_visitor(contact_id=contact.pk, body="Hi")
    conversation = Conversation.objects.get(pk=message.conversation_id)
    Event.objects.all().delete()

    reply = inbox.message_from_agent(conversation=conversation, author=owner_a, body="Hello!")
    inbox.message_from_agent(conversation=conversation, author=owner_a, body="internal", private=True)
    inbox.conversation_assign(conversation=conversation, assignee=owner_a, by=owner_a)
    inbox.conversation_priority_set(conversation=conversation, priority=3, by=owner_a)
    label = Label.objects.create(name="Billing", color="#ff0000")
    inbox.conversation_label_set(conversation=conversation, label=label, on=True, by=owner_a)
    inbox.conversation_status_set(conversation=conversation, status="resolved", by=owner_a)

    recorded = events()
    assert [(t, p["data"].get("changed")) for t, p in recorded] == [
        ("message.created", None),
        ("message.created", None),  # the note: only the endpoint that opted in gets it
        ("conversation.updated", ["assignee"]),
        ("conversation.updated", ["priority"]),
        ("conversation.updated", ["labels"]),
        ("conversation.updated", ["status"]),
        ("conversation.resolved", None),
    ]
    reply_data = recorded[0][1]["data"]
    assert reply_data["id"] == reply.pk and reply_data["kind"] == "agent"
    assert reply_data["author"] == {"id": owner_a.pk, "name": owner_a.name, "email": owner_a.email}
    note_event = Event.objects.order_by("id")[1]
    assert note_event.payload["data"]["kind"] == "note"
    assert list(note_event.deliveries.values_list("endpoint_id", flat=True)) == [with_notes.pk]
    assert Delivery.objects.filter(event=Event.objects.order_by("id")[0]).count() == 2
    resolved = recorded[-1][1]["data"]
    assert resolved["status"] == "resolved" and resolved["resolved_at"].endswith("Z")
    assert resolved["priority"] == "high" and resolved["labels"] == ["Billing"]
    assert resolved["assignee"]["email"] == owner_a.email
    assert {d.endpoint_id for d in Delivery.objects.all()} == {everything.pk, with_notes.pk}


def test_identifying_a_visitor_records_what_changed(website):
    endpoint(types=["contact.updated"])
    contact, _ = inbox.contact_for_visitor(website=website, token=None)
    inbox.contact_identify(website=website, contact=contact, email="ann@example.com", name="Ann")
    inbox.contact_identify(website=website, contact=contact, email="ann@example.com", name="Ann")  # no change
    assert [(t, p["data"]["changed"], p["data"]["email"]) for t, p in events()] == [
        ("contact.updated", ["email", "name"], "ann@example.com")
    ]


def test_disabled_endpoints_and_unsubscribed_types_get_nothing(website):
    hook = endpoint(types=["contact.created"])
    services.endpoint_disable(endpoint=hook, reason="off")
    endpoint(types=["message.created"])
    inbox.contact_for_visitor(website=website, token=None)
    assert events() == []


def test_a_rolled_back_change_leaves_no_event_and_no_job(website, owner_a):
    endpoint()
    contact, _ = inbox.contact_for_visitor(website=website, token=None)
    message, _ = inbox.message_from_visitor(contact_id=contact.pk, body="Hi")
    conversation = Conversation.objects.get(pk=message.conversation_id)
    before_events, before_jobs = len(events()), len(jobs())

    with pytest.raises(RuntimeError), transaction.atomic():
        inbox.message_from_agent(conversation=conversation, author=owner_a, body="never sent")
        inbox.conversation_status_set(conversation=conversation, status="resolved", by=owner_a)
        assert len(events()) == before_events + 3
        raise RuntimeError("the change fails after its events were written")

    assert len(events()) == before_events and len(jobs()) == before_jobs


@pytest.mark.django_db(transaction=True)
def test_events_must_be_recorded_inside_the_changes_transaction(tx_workspaces):
    with workspace_schema(tx_workspaces.alpha.schema_name):
        endpoint()
        with pytest.raises(RuntimeError, match="inside the transaction"):
            services.event_record("contact.created", "contact", 1)


def test_the_test_event_goes_to_its_endpoint_only(website):
    first, second = endpoint(types=["contact.created"]), endpoint(types=["contact.created"])
    assert services.endpoint_test_send(endpoint=second) == 1
    (event,) = Event.objects.all()
    assert event.type == "webhook.test" and event.payload["data"]["endpoint_id"] == second.pk
    assert [d.endpoint_id for d in event.deliveries.all()] == [second.pk]
    assert first.deliveries.count() == 0
    json.dumps(event.payload)  # plain JSON
