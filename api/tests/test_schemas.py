"""The REST API's inputs and objects (api/schemas.py) over HTTP: input taken exactly as documented or
refused with 422, and every time in every answer written one way, as the document declares."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from api.schemas import TIMESTAMP_PATTERN
from api.tests.api_clients import conversations
from tenants.context import workspace_schema
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def test_input_is_taken_exactly_as_documented_or_refused_with_422(a, workspace_a):
    """Found by the schemathesis run (tests/e2e/test_api_conformance.py), kept here by name."""
    (conversation_id,) = conversations(workspace_a, 1)

    def post(path, body):
        return a.post(
            f"/api/v1/conversations/{conversation_id}/{path}", body, content_type="application/json"
        )

    refused = [
        post("messages", {"body": "Hi", "private": 0}),  # a number for a flag
        post("messages", {"body": "Hi", "sent_by": "me"}),  # a field the API does not have
        post("messages", {"body": "Hi", "client_id": "not-a-uuid"}),
        post("messages", {"body": ""}),
        post("status", {"status": "snoozed", "snoozed_until": 1767225600}),  # a number for a time
        post("status", {"status": "snoozed", "snoozed_until": "2027-01-01T09:00:00"}),  # no time zone
        post("assignee", {"assignee_id": "5"}),
        post("assignee", {"assignee_id": 0}),
        a.get("/api/v1/contacts/99999999999999999999999"),  # past bigint: was a 500
        a.get("/api/v1/contacts", {"cursor": "abc"}),
    ]
    assert [r.status_code for r in refused] == [422] * len(refused)
    assert all(r.json()["error"]["code"] == "invalid_request" for r in refused)

    snoozed = post("status", {"status": "snoozed", "snoozed_until": "2027-01-01T09:00:00Z"})
    assert snoozed.status_code == 200 and snoozed.json()["snoozed_until"].startswith("2027-01-01T09:00:00")
    # A cursor this API never wrote, however large, is the first page, never an error.
    assert a.get("/api/v1/contacts", {"cursor": "9" * 30}).status_code == 200
    odd = a.get("/api/v1/conversations", {"status": "snoozed", "cursor": "9" * 30 + ".0_" + "9" * 30})
    assert odd.status_code == 200 and [c["id"] for c in odd.json()["data"]] == [conversation_id]
    # A missing conversation is 404 whoever the assignee is.
    assert (
        a.post(
            "/api/v1/conversations/987654/assignee", {"assignee_id": 424242}, content_type="application/json"
        ).status_code
        == 404
    )


TIME = re.compile(TIMESTAMP_PATTERN)


TIME_FIELDS = {
    "created_at", "last_message_at", "first_agent_reply_at", "resolved_at", "snoozed_until",
    "last_seen_at", "failing_since",
}  # fmt: skip


def times_in(answer) -> dict[str, list[str]]:
    """Every time field (by its name) anywhere in a JSON answer, with its values that are not null."""
    found: dict[str, list[str]] = {}
    if isinstance(answer, dict):
        for name, value in answer.items():
            if name.endswith(("_at", "_since", "_until")):
                found.setdefault(name, []).extend([value] if value is not None else [])
            for inner, values in times_in(value).items():
                found.setdefault(inner, []).extend(values)
    elif isinstance(answer, list):
        for item in answer:
            for inner, values in times_in(item).items():
                found.setdefault(inner, []).extend(values)
    return found


def test_every_time_in_every_answer_has_one_format_with_microseconds(a, workspace_a, owner_a):
    (conversation_id,) = conversations(workspace_a, 1)

    def post(path, body):
        return a.post(path, body, content_type="application/json")

    reply = post(f"/api/v1/conversations/{conversation_id}/messages", {"body": "On its way."})
    snoozed = post(
        f"/api/v1/conversations/{conversation_id}/status",
        {"status": "snoozed", "snoozed_until": "2027-01-01T09:00:00Z"},  # whole seconds: .000000Z
    )
    resolved = post(f"/api/v1/conversations/{conversation_id}/status", {"status": "resolved"})
    created = post(
        "/api/v1/webhook-endpoints", {"url": "https://hooks.example/", "event_types": ["contact.created"]}
    )
    endpoint_id = created.json()["id"]
    with workspace_schema(workspace_a.schema_name):
        # A failing endpoint, and a creation time on a whole second (the serialiser once cut both
        # to milliseconds; a whole second is where a format most often drops its fraction).
        Endpoint.objects.filter(pk=endpoint_id).update(
            failing_since=datetime(2026, 11, 25, 9, 34, 57, 123456, tzinfo=UTC),
            created_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
        )
    contact_id = a.get("/api/v1/contacts").json()["data"][0]["id"]
    patched = a.patch(
        f"/api/v1/webhook-endpoints/{endpoint_id}", {"description": "CRM"}, content_type="application/json"
    )
    answers = [
        reply, snoozed, resolved, created,
        a.get("/api/v1/conversations?status=resolved"),
        a.get(f"/api/v1/conversations/{conversation_id}"),
        a.get(f"/api/v1/conversations/{conversation_id}/messages"),
        a.get("/api/v1/contacts"),
        a.get(f"/api/v1/contacts/{contact_id}"),
        a.get("/api/v1/webhook-endpoints"),
        a.get(f"/api/v1/webhook-endpoints/{endpoint_id}"),
        patched,
    ]  # fmt: skip
    seen: dict[str, list[str]] = {}
    for answer in answers:
        assert answer.status_code in (200, 201), answer.content
        for name, values in times_in(answer.json()).items():
            seen.setdefault(name, []).extend(values)
    assert set(seen) == TIME_FIELDS and all(seen.values()), "every time field, each with a value"
    assert [t for values in seen.values() for t in values if not TIME.fullmatch(t)] == []
    endpoint = a.get(f"/api/v1/webhook-endpoints/{endpoint_id}").json()
    assert (endpoint["failing_since"], endpoint["created_at"]) == (
        "2026-11-25T09:34:57.123456Z",
        "2026-11-25T09:00:00.000000Z",
    )
    # Outputs declare it: a client (and the schemathesis run) can check every time it is sent.
    outputs = {
        name: shape
        for name, shape in a.get("/api/v1/openapi.json").json()["components"]["schemas"].items()
        if name.endswith("Out")
    }
    declared = set()
    for name, shape in outputs.items():
        for field, schema in shape.get("properties", {}).items():
            if field in TIME_FIELDS:
                options = schema.get("anyOf", [schema])
                assert any(o.get("pattern") == TIMESTAMP_PATTERN for o in options), (name, field)
                declared.add(field)
    assert declared == TIME_FIELDS
