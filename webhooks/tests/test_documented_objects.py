"""One definition of each public object: what webhook_*_data builds (webhooks/sql/) is what the REST
API's output schemas describe, key for key and value for value, nested objects included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from pydantic import BaseModel

from api.schemas import ContactOut, ConversationOut, MessageOut, UserOut
from inbox import services as inbox
from tenants.context import workspace_schema
from webhooks.selectors import documented_object

pytestmark = pytest.mark.django_db


def user_fields(schema: type[BaseModel]) -> list[str]:
    """The schema's fields that hold a user (UserOut or None)."""
    return [
        name
        for name, field in schema.model_fields.items()
        if UserOut in getattr(field.annotation, "__args__", ())
    ]


@pytest.fixture
def objects(workspace_a, owner_a):
    """A conversation with everything set (assignee, label, snooze, a reply), its messages and contact."""
    with workspace_schema(workspace_a.schema_name):
        website, _ = inbox.website_create(
            workspace=workspace_a, name="S", allowed_origins="https://s.example"
        )
        contact, _ = inbox.contact_for_visitor(website=website, token=None, page_url="https://s.example/p")
        inbox.contact_identify(
            website=website, contact=contact, email="mia@example.com", name="Mia", user_id="", user_hash="",
            attributes={"plan": "pro"},
        )  # fmt: skip
        message, _ = inbox.message_from_visitor(contact_id=contact.pk, body="Hello")
        conversation = message.conversation
        reply = inbox.message_from_agent(conversation=conversation, author=owner_a, body="Hi!")
        inbox.conversation_assign(conversation=conversation, assignee=owner_a, by=owner_a)
        label = inbox.label_create(name="Billing", color="#6366f1")
        inbox.conversation_label_set(conversation=conversation, label=label, on=True, by=owner_a)
        inbox.conversation_status_set(
            conversation=conversation,
            status="snoozed",
            by=owner_a,
            snoozed_until=timezone.now() + timedelta(hours=1),
        )
        yield {
            "conversation": documented_object("conversation", conversation.pk),
            "visitor message": documented_object("message", message.pk),
            "agent message": documented_object("message", reply.pk),
            "contact": documented_object("contact", contact.pk),
        }


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("conversation", ConversationOut),
        ("visitor message", MessageOut),
        ("agent message", MessageOut),
        ("contact", ContactOut),
    ],
)
def test_the_sql_objects_are_the_api_schemas(objects, name, schema):
    data = objects[name]
    assert sorted(data) == sorted(schema.model_fields)
    for field in user_fields(schema):
        assert data[field] is None or sorted(data[field]) == sorted(UserOut.model_fields), field
    # Every value as the API sends it: the schema takes it whole and gives it back unchanged.
    assert schema.model_validate(data).model_dump(mode="json") == data


def test_the_fixture_sets_what_could_hide_a_difference(objects):
    conversation = objects["conversation"]
    assert (
        conversation["assignee"] and conversation["labels"] == ["Billing"] and conversation["snoozed_until"]
    )
    assert user_fields(ConversationOut) == ["assignee"] and user_fields(MessageOut) == ["author"]
    assert objects["agent message"]["author"] and objects["contact"]["custom_attributes"] == {"plan": "pro"}
