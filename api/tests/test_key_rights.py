"""A key acts with its maker's rights as they are now, on every operation: an owner's or admin's key
works; demoted to agent, it is suspended (and works again if they are promoted); removed, it is revoked."""

from __future__ import annotations

import pytest

from api.models import ApiKey
from api.tests.api_clients import api_client, conversations, make_key
from conftest import host_client
from tenants import services as tenant_services
from tenants.context import run_in_workspace
from tenants.models import Membership
from webhooks import services as webhook_services

pytestmark = pytest.mark.django_db


def operations(conversation_id: int, contact_id: int, endpoint_id: int) -> list[tuple[str, str, dict | None]]:
    """Every operation of the API, with input it accepts."""
    c, e = f"/api/v1/conversations/{conversation_id}", f"/api/v1/webhook-endpoints/{endpoint_id}"
    return [
        ("get", "/api/v1/conversations", None),
        ("get", c, None),
        ("get", f"{c}/messages", None),
        ("post", f"{c}/messages", {"body": "On it."}),
        ("post", f"{c}/status", {"status": "pending"}),
        ("post", f"{c}/assignee", {"assignee_id": None}),
        ("get", "/api/v1/contacts", None),
        ("get", f"/api/v1/contacts/{contact_id}", None),
        ("get", "/api/v1/webhook-endpoints", None),
        (
            "post",
            "/api/v1/webhook-endpoints",
            {"url": "https://x.example/", "event_types": ["message.created"]},
        ),
        ("get", e, None),
        ("patch", e, {"description": "CRM"}),
        ("post", f"{e}/rotate-secret", None),
        ("delete", e, None),
    ]


def call(client, method: str, path: str, body: dict | None):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, content_type="application/json")


@pytest.fixture
def setting(workspace_a, owner_a, owner_b):
    """owner_b is a member of A who made a read-write key; a conversation and an endpoint exist."""
    member = Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.ADMIN)
    conversation_id = conversations(workspace_a, 1)[0]

    def ids():
        from inbox.models import Conversation

        endpoint, _ = webhook_services.endpoint_create(
            url="https://hooks.example/", event_types=["contact.created"]
        )
        return Conversation.objects.get(pk=conversation_id).contact_id, endpoint.pk

    contact_id, endpoint_id = run_in_workspace(workspace_a.schema_name, ids)
    key = make_key(workspace_a, owner_b)
    owner = Membership.objects.get(workspace=workspace_a, user=owner_a)
    return member, owner, key, operations(conversation_id, contact_id, endpoint_id)


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_an_owners_or_admins_key_works_on_every_operation(setting, role):
    member, owner, key, ops = setting
    tenant_services.membership_role_set(membership=member, role=role, by=owner)
    client = api_client("alpha.localhost", key)
    for method, path, body in ops:
        response = call(client, method, path, body)
        assert response.status_code in (200, 201, 204), (method, path, response.content)


def test_a_key_of_a_maker_demoted_to_agent_is_suspended_on_every_operation_until_promoted(setting):
    member, owner, key, ops = setting
    tenant_services.membership_role_set(membership=member, role="agent", by=owner)
    client = api_client("alpha.localhost", key)
    for method, path, body in ops:
        response = call(client, method, path, body)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "key_suspended"
    # The keys page says so.
    page = host_client("alpha.localhost", owner.user).get("/settings/api-keys/").content.decode()
    assert "Suspended" in page and "is now agent" in page

    tenant_services.membership_role_set(membership=member, role="admin", by=owner)
    assert client.get("/api/v1/conversations").status_code == 200


def test_a_removed_makers_keys_are_revoked_and_refused_on_every_operation(setting, workspace_a):
    member, owner, key, ops = setting
    tenant_services.membership_remove(membership=member, by=owner.user)
    revoked = run_in_workspace(workspace_a.schema_name, lambda: ApiKey.objects.get())
    assert revoked.revoked_at is not None and "left the workspace" in revoked.revoked_reason
    client = api_client("alpha.localhost", key)
    for method, path, body in ops:
        assert call(client, method, path, body).status_code == 401, (method, path)
    page = host_client("alpha.localhost", owner.user).get("/settings/api-keys/").content.decode()
    assert "left the workspace" in page


def test_a_key_whose_maker_is_gone_without_a_revocation_is_still_refused(setting, workspace_a):
    """Keys made before removals revoked them: the check on every request holds on its own."""
    member, _owner, key, ops = setting
    member.delete()
    client = api_client("alpha.localhost", key)
    for method, path, body in ops:
        response = call(client, method, path, body)
        assert response.status_code == 403 and response.json()["error"]["code"] == "key_owner_left"
