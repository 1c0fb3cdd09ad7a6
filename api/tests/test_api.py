"""The REST API over HTTP on a workspace's host: bearer keys, scopes, the error shape, rate limits,
pagination, other workspaces' ids, webhook endpoints, and the OpenAPI document."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client, override_settings

from api import services as key_services
from api.models import ApiKey
from api.schemas import TIMESTAMP_PATTERN
from inbox import services as inbox
from inbox.models import Conversation, Message
from tenants.context import run_in_workspace, workspace_schema
from webhooks.models import Endpoint
from webhooks.tests.refused_targets import REFUSED, delivery_refusal

pytestmark = pytest.mark.django_db


def api_client(host: str, key: str | None) -> Client:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return Client(HTTP_HOST=host, **headers)


def make_key(workspace, owner, scope="write") -> str:
    return run_in_workspace(
        workspace.schema_name, lambda: key_services.api_key_create(name="CRM", scope=scope, by=owner)[1]
    )


def conversations(workspace, count: int) -> list[int]:
    def make():
        website, _ = inbox.website_create(workspace=workspace, name="S", allowed_origins="")
        ids = []
        for i in range(count):
            contact, _ = inbox.contact_for_visitor(website=website, token=None)
            message, _ = inbox.message_from_visitor(contact_id=contact.pk, body=f"Question {i} about refunds")
            ids.append(message.conversation_id)
        return ids

    return run_in_workspace(workspace.schema_name, make)


@pytest.fixture
def a(workspace_a, owner_a):
    return api_client("alpha.localhost", make_key(workspace_a, owner_a))


def test_without_a_key_or_with_a_wrong_one_it_is_401_in_the_stable_shape(workspace_a, owner_a):
    for key in (None, "sk_not-a-real-key", "Basic abc"):
        response = api_client("alpha.localhost", key).get("/api/v1/conversations")
        assert response.status_code == 401
        assert response.json() == {
            "error": {
                "code": "unauthorized",
                "message": "Send a live API key of this workspace as `Authorization: Bearer sk_…`.",
            }
        }
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_stops_working_and_the_key_is_kept_only_as_a_hash(workspace_a, owner_a):
    raw = make_key(workspace_a, owner_a)
    client = api_client("alpha.localhost", raw)
    assert client.get("/api/v1/conversations").status_code == 200
    with workspace_schema(workspace_a.schema_name):
        key = ApiKey.objects.get()
        assert raw not in (key.key_hash, key.prefix) and raw.startswith(key.prefix)
        assert key.last_used_at is not None
        key_services.api_key_revoke(key=key)
    assert client.get("/api/v1/conversations").status_code == 401


def test_a_key_of_workspace_a_reaches_nothing_of_workspace_b(workspace_a, workspace_b, owner_a, owner_b):
    (b_conversation,) = conversations(workspace_b, 1)
    key_a = make_key(workspace_a, owner_a)
    on_b_host = api_client("beta.localhost", key_a)
    assert on_b_host.get("/api/v1/conversations").status_code == 401
    on_a_host = api_client("alpha.localhost", key_a)
    for path in (
        f"/api/v1/conversations/{b_conversation}",
        f"/api/v1/conversations/{b_conversation}/messages",
    ):
        response = on_a_host.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    reply = on_a_host.post(
        f"/api/v1/conversations/{b_conversation}/messages", {"body": "hi"}, content_type="application/json"
    )
    assert reply.status_code == 404
    with workspace_schema(workspace_b.schema_name):
        assert Message.objects.filter(author_kind="agent").count() == 0


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


def test_a_read_key_cannot_write(workspace_a, owner_a):
    (conversation_id,) = conversations(workspace_a, 1)
    read_only = api_client("alpha.localhost", make_key(workspace_a, owner_a, scope="read"))
    assert read_only.get(f"/api/v1/conversations/{conversation_id}").status_code == 200
    for path, body in (
        (f"/api/v1/conversations/{conversation_id}/messages", {"body": "hi"}),
        (f"/api/v1/conversations/{conversation_id}/status", {"status": "resolved"}),
        ("/api/v1/webhook-endpoints", {"url": "https://x.example/", "event_types": ["message.created"]}),
    ):
        response = read_only.post(path, body, content_type="application/json")
        assert response.status_code == 403 and response.json()["error"]["code"] == "insufficient_scope"


@override_settings(PARLEY_API_RATE_LIMIT=3)
def test_each_key_is_rate_limited_with_retry_after(workspace_a, owner_a):
    client = api_client("alpha.localhost", make_key(workspace_a, owner_a))
    statuses = [client.get("/api/v1/contacts").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/contacts")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
    other_key = api_client("alpha.localhost", make_key(workspace_a, owner_a))
    assert other_key.get("/api/v1/contacts").status_code == 200


def test_contacts_and_webhook_endpoints(a, workspace_a):
    conversations(workspace_a, 3)
    page = a.get("/api/v1/contacts?limit=2").json()
    assert len(page["data"]) == 2 and page["next_cursor"]
    rest = a.get("/api/v1/contacts", {"cursor": page["next_cursor"]}).json()
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None
    assert a.get(f"/api/v1/contacts/{rest['data'][0]['id']}").json() == rest["data"][0]

    created = a.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://hooks.example/in", "event_types": ["message.created"]},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    endpoint_id = created.json()["id"]
    assert "secret" not in a.get(f"/api/v1/webhook-endpoints/{endpoint_id}").json()
    patched = a.patch(
        f"/api/v1/webhook-endpoints/{endpoint_id}", {"enabled": False}, content_type="application/json"
    )
    assert patched.json()["enabled"] is False
    refused = a.post(
        "/api/v1/webhook-endpoints",
        {"url": "http://169.254.169.254/", "event_types": ["message.created"]},
        content_type="application/json",
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_endpoint"
    unknown_type = a.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://hooks.example/", "event_types": ["everything"]},
        content_type="application/json",
    )
    assert unknown_type.status_code == 422
    rotated = a.post(f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret")
    assert rotated.json()["secret"].startswith("whsec_")
    for _ in range(4):  # five replaced secrets now sign beside the current one
        assert a.post(f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret").status_code == 200
    refused = a.post(f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "too_many_secrets"
    assert "Rotate again after" in refused.json()["error"]["message"]
    assert a.delete(f"/api/v1/webhook-endpoints/{endpoint_id}").status_code == 204
    with workspace_schema(workspace_a.schema_name):
        assert not Endpoint.objects.exists()


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


def test_a_patch_leaves_absent_and_null_fields_unchanged(a, workspace_a):
    created = a.post(
        "/api/v1/webhook-endpoints",
        {
            "url": "https://hooks.example/in",
            "event_types": ["message.created"],
            "include_private_notes": True,
        },
        content_type="application/json",
    ).json()
    patched = a.patch(
        f"/api/v1/webhook-endpoints/{created['id']}",
        {"description": "CRM", "include_private_notes": None, "enabled": None},
        content_type="application/json",
    )
    assert patched.status_code == 200
    assert (patched.json()["description"], patched.json()["include_private_notes"]) == ("CRM", True)


def test_the_openapi_document_and_interactive_docs(workspace_a):
    anonymous = Client(HTTP_HOST="alpha.localhost")
    document = anonymous.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/conversations", "/api/v1/webhook-endpoints"} <= set(document["paths"])
    assert document["components"]["securitySchemes"]
    docs = anonymous.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_the_operation_ids_are_those_first_published(workspace_a):
    """Clients generated from the document name their methods after them, wherever the code moves."""
    document = Client(HTTP_HOST="alpha.localhost").get("/api/v1/openapi.json").json()
    operation_ids = {
        f"{method.upper()} {path.removeprefix('/api/v1')}": operation["operationId"]
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert operation_ids == {
        "GET /conversations": "api_api_list_conversations",
        "GET /conversations/{conversation_id}": "api_api_get_conversation",
        "GET /conversations/{conversation_id}/messages": "api_api_list_messages",
        "POST /conversations/{conversation_id}/messages": "api_api_post_message",
        "POST /conversations/{conversation_id}/status": "api_api_set_status",
        "POST /conversations/{conversation_id}/assignee": "api_api_set_assignee",
        "GET /contacts": "api_api_list_contacts",
        "GET /contacts/{contact_id}": "api_api_get_contact",
        "GET /webhook-endpoints": "api_api_list_endpoints",
        "POST /webhook-endpoints": "api_api_create_endpoint",
        "GET /webhook-endpoints/{endpoint_id}": "api_api_get_endpoint",
        "PATCH /webhook-endpoints/{endpoint_id}": "api_api_update_endpoint",
        "DELETE /webhook-endpoints/{endpoint_id}": "api_api_delete_endpoint",
        "POST /webhook-endpoints/{endpoint_id}/rotate-secret": "api_api_rotate_endpoint_secret",
    }


@pytest.mark.parametrize(("url", "why"), REFUSED)
@override_settings(PARLEY_WEBHOOK_ALLOW_PRIVATE_TARGETS=False)
def test_a_webhook_url_of_our_own_networks_is_refused_in_any_form_at_creation_and_update(a, url, why):
    expected = {
        "error": {
            "code": "invalid_endpoint",
            "message": f"This URL cannot receive webhooks: {delivery_refusal(url)}.",
        }
    }
    created = a.post(
        "/api/v1/webhook-endpoints",
        {"url": url, "event_types": ["message.created"]},
        content_type="application/json",
    )
    assert (created.status_code, created.json()) == (400, expected)
    assert why in created.json()["error"]["message"]
    endpoint = a.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://93.184.215.14/in", "event_types": ["message.created"]},
        content_type="application/json",
    ).json()
    patched = a.patch(
        f"/api/v1/webhook-endpoints/{endpoint['id']}", {"url": url}, content_type="application/json"
    )
    assert (patched.status_code, patched.json()) == (400, expected)
    assert a.get(f"/api/v1/webhook-endpoints/{endpoint['id']}").json()["url"] == "https://93.184.215.14/in"


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
