"""Reads for the API: which ids a page shows. Their objects come from
webhooks.selectors.documented_objects, so the API and the webhooks show one and the same shape."""

from __future__ import annotations

from inbox.models import Contact, Message


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
