"""A client of the REST API with a key of a workspace, and conversations in it to read."""

from __future__ import annotations

from django.test import Client

from api import services as key_services
from inbox import services as inbox
from tenants.context import run_in_workspace


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
