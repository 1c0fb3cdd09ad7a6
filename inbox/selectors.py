"""Reads for websites, visitors and messages."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from inbox.models import Contact, Conversation, Message, Website

SYNC_LIMIT = 500


def website_by_id(website_id: int) -> Website | None:
    return Website.objects.filter(pk=website_id).first()


def websites_of_workspace() -> QuerySet[Website]:
    return Website.objects.order_by("name", "id")


def contact_messages_after(*, contact: Contact, after_id: int = 0, limit: int = SYNC_LIMIT) -> list[Message]:
    """A visitor's messages, oldest first: the newest `limit` of all when `after_id` is 0 (a fresh
    page), else the first `limit` above `after_id` (a catch-up, which must have no holes)."""
    messages = Message.objects.filter(contact=contact)
    if not after_id:
        return list(messages.order_by("-id")[:limit])[::-1]
    return list(messages.filter(id__gt=after_id).order_by("id")[:limit])


def contact_has_agent_reply(contact: Contact) -> bool:
    return Conversation.objects.filter(contact=contact, first_agent_reply_at__isnull=False).exists()


def message_payload(message: Message, *, prev_id: int | None) -> dict:
    """What clients get for one message; `prev_id` lets them notice a push they missed."""
    author: User | None = message.author if message.author_id else None
    return {
        "id": message.pk,
        "prev_id": prev_id,
        "conversation_id": message.conversation_id,
        "contact_id": message.contact_id,
        "author_kind": message.author_kind,
        "author_name": author.name if author else "",
        "body": message.body,
        "created_at": message.created_at.isoformat(),
        "client_id": str(message.client_id) if message.client_id else None,
    }


def message_payloads(messages: list[Message], *, after_id: int) -> list[dict]:
    authors = {u.pk: u for u in User.objects.filter(pk__in={m.author_id for m in messages if m.author_id})}
    payloads, prev_id = [], after_id or None
    for message in messages:
        if message.author_id:
            message.author = authors.get(message.author_id)
        payloads.append(message_payload(message, prev_id=prev_id))
        prev_id = message.pk
    return payloads
