"""Who may call the REST API (api/auth.py): a live key of the host's workspace, sent as a bearer
token; a read-write key to write; a key's rate limit with Retry-After. The maker's rights are
checked on every operation: test_key_rights.py."""

from __future__ import annotations

import pytest
from django.test import override_settings

from api import services as key_services
from api.models import ApiKey
from api.tests.api_clients import api_client, conversations, make_key
from inbox.models import Message
from tenants.context import workspace_schema

pytestmark = pytest.mark.django_db


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
