"""Settings → API keys: a key is shown once and kept as a hash; a bad name is explained; revoke."""

from __future__ import annotations

import pytest

from api.models import ApiKey
from api.services import api_key_hash
from tenants.context import workspace_schema

pytestmark = pytest.mark.django_db


def test_a_key_is_shown_once_and_kept_as_a_hash(client_a, workspace_a):
    response = client_a.post("/settings/api-keys/", {"name": "CRM sync", "scope": "write"})
    assert response.status_code == 302
    page = client_a.get("/settings/api-keys/").content.decode()
    with workspace_schema(workspace_a.schema_name):
        key = ApiKey.objects.get()
    raw = page.split('<code id="api-key">', 1)[1].split("</code>", 1)[0]
    assert raw.startswith("sk_") and api_key_hash(raw) == key.key_hash
    assert "It is shown only this once." in page and "{#" not in page and "comment %}" not in page
    assert (key.name, key.scope) == ("CRM sync", "write")
    again = client_a.get("/settings/api-keys/").content.decode()
    assert raw not in again and f"{key.prefix}…" in again


def test_a_nameless_key_or_an_unknown_scope_is_refused_with_the_reason(client_a, workspace_a):
    nameless = client_a.post("/settings/api-keys/", {"name": " ", "scope": "read"})
    assert nameless.status_code == 400 and "Give the key a name" in nameless.content.decode()
    admin_scope = client_a.post("/settings/api-keys/", {"name": "x", "scope": "admin"})
    assert admin_scope.status_code == 400 and "read or write" in admin_scope.content.decode()
    with workspace_schema(workspace_a.schema_name):
        assert not ApiKey.objects.exists()


def test_revoking_a_key(client_a, workspace_a):
    client_a.post("/settings/api-keys/", {"name": "Old", "scope": "read"})
    with workspace_schema(workspace_a.schema_name):
        key = ApiKey.objects.get()
    assert client_a.post(f"/settings/api-keys/{key.pk}/revoke/").status_code == 302
    assert "Revoked" in client_a.get("/settings/api-keys/").content.decode()
    with workspace_schema(workspace_a.schema_name):
        assert ApiKey.objects.get().revoked_at is not None
