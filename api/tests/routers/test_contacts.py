"""/contacts (api/routers/contacts.py): pages by cursor, and one contact by id."""

from __future__ import annotations

import pytest

from api.tests.api_clients import conversations

pytestmark = pytest.mark.django_db


def test_contacts_page_by_cursor_and_one_by_id(a, workspace_a):
    conversations(workspace_a, 3)
    page = a.get("/api/v1/contacts?limit=2").json()
    assert len(page["data"]) == 2 and page["next_cursor"]
    rest = a.get("/api/v1/contacts", {"cursor": page["next_cursor"]}).json()
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None
    assert a.get(f"/api/v1/contacts/{rest['data'][0]['id']}").json() == rest["data"][0]
