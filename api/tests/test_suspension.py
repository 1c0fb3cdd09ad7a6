"""A suspended workspace's REST API: every operation of the document answers 403
`workspace_suspended` to a key of the workspace, and the document says so."""

from __future__ import annotations

import json
import re

import pytest

from api.rest import FORBIDDEN_DESCRIPTION, api
from api.tests.api_clients import api_client, conversations, make_key
from conftest import host_client
from inbox.models import Message
from tenants import services as tenant_services
from tenants.context import workspace_schema

pytestmark = pytest.mark.django_db

BODY = {
    "error": {
        "code": "workspace_suspended",
        "message": "This workspace is suspended: every operation is refused until it is unsuspended. "
        "Nothing in it was deleted.",
    }
}


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the document, ids in the path filled in."""
    document = api.get_openapi_schema()
    return [
        (method.upper(), re.sub(r"\{[a-z_]+\}", "1", path))
        for path, operations in document["paths"].items()
        for method in operations
    ]


def test_every_operation_answers_403_workspace_suspended(workspace_a, owner_a, workspace_b, owner_b):
    (conversation_id,) = conversations(workspace_a, 1)
    client = api_client("alpha.localhost", make_key(workspace_a, owner_a))
    assert client.get("/api/v1/conversations").status_code == 200
    tenant_services.workspace_suspend(workspace=workspace_a, reason="Chargeback.")
    operations = _operations()
    assert len(operations) >= 14 and ("POST", "/api/v1/conversations/1/messages") in operations
    for method, path in operations:
        body = json.dumps({"body": "Refused", "url": "https://example.com/hook", "event_types": []})
        response = client.generic(method, path, body, content_type="application/json")
        assert response.status_code == 403, (method, path, response.content)
        assert response.json() == BODY, (method, path)
    with workspace_schema(workspace_a.schema_name):
        assert list(Message.objects.values_list("conversation_id", flat=True)) == [conversation_id]

    # A caller without a key of the workspace learns nothing of it; another workspace is untouched.
    assert api_client("alpha.localhost", "sk_not-a-real-key").get("/api/v1/conversations").status_code == 401
    assert (
        api_client("beta.localhost", make_key(workspace_b, owner_b)).get("/api/v1/contacts").status_code
        == 200
    )

    tenant_services.workspace_unsuspend(workspace=workspace_a)
    assert client.get("/api/v1/conversations").status_code == 200


def test_the_document_names_workspace_suspended_on_every_operation(workspace_a):
    document = host_client("alpha.localhost").get("/api/v1/openapi.json").json()
    forbidden = [
        operation["responses"]["403"]
        for operations in document["paths"].values()
        for operation in operations.values()
    ]
    assert len(forbidden) >= 14
    assert all(response["description"] == FORBIDDEN_DESCRIPTION for response in forbidden)
    assert "`workspace_suspended`" in FORBIDDEN_DESCRIPTION
