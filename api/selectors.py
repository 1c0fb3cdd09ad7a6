"""Reads for the API. Conversations, messages and contacts come out of the schema's
webhook_<object>_data functions, so the API and the webhooks show one and the same shape."""

from __future__ import annotations

import json

from django.db import connection

from inbox.models import Contact, Message

_FUNCTIONS = {
    "conversation": "webhook_conversation_data",
    "message": "webhook_message_data",
    "contact": "webhook_contact_data",
}


def objects(kind: str, ids: list[int]) -> list[dict]:
    """The documented objects for `ids`, in that order (one query)."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {_FUNCTIONS[kind]}(id) FROM unnest(%s::bigint[]) AS id",  # noqa: S608
            [ids],
        )
        found = {row[0]: json.loads(row[1]) for row in cursor.fetchall() if row[1] is not None}
    return [found[i] for i in ids if i in found]


def one(kind: str, object_id: int) -> dict | None:
    found = objects(kind, [object_id])
    return found[0] if found else None


def message_ids(*, conversation_id: int, after: int, limit: int) -> list[int]:
    return list(
        Message.objects.filter(conversation_id=conversation_id, id__gt=after)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def contact_ids(*, before: int | None, limit: int, query: str = "") -> list[int]:
    contacts = Contact.objects.all()
    if before:
        contacts = contacts.filter(id__lt=before)
    if query:
        contacts = contacts.filter(email__iexact=query) | contacts.filter(external_id=query)
    return list(contacts.order_by("-id").values_list("id", flat=True)[:limit])
