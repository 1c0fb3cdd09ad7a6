"""/webhook-endpoints (api/routers/webhook_endpoints.py): made (the secret shown once), read,
patched, rotated, deleted; URLs of our own networks refused, at creation and in a patch."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tenants.context import workspace_schema
from webhooks.models import Endpoint
from webhooks.tests.refused_targets import REFUSED, delivery_refusal

pytestmark = pytest.mark.django_db


def test_webhook_endpoints_made_read_patched_rotated_and_deleted(a, workspace_a):
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
