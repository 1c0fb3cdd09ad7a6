"""The REST API as published (api/rest.py): its OpenAPI document, interactive docs and operationIds."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


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
