"""Reads for the API: which ids a page shows. Their objects come from
webhooks.selectors.documented_objects, so the API and the webhooks show one and the same shape."""

from __future__ import annotations

from accounts.models import User
from api.models import ApiKey
from inbox.models import Contact, Message
from tenants.models import Membership


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


def keys_with_makers(*, workspace) -> list[ApiKey]:
    """The workspace's keys, newest first, each with `maker` (a user or None) and `maker_membership`
    (None once they left), so the page can say which keys their maker's role suspends."""
    keys = list(ApiKey.objects.all())
    makers = {key.created_by_id for key in keys}
    memberships = {
        m.user_id: m
        for m in Membership.objects.filter(workspace=workspace, user_id__in=makers).select_related("user")
    }
    # Members come with their membership; only makers who left are read on their own.
    users = {user_id: m.user for user_id, m in memberships.items()}
    users |= User.objects.in_bulk(makers - users.keys()) if makers - users.keys() else {}
    for key in keys:
        key.maker = users.get(key.created_by_id)
        key.maker_membership = memberships.get(key.created_by_id)
        key.suspended = key.revoked_at is None and (
            key.maker_membership is None or not key.maker_membership.can_manage_workspace
        )
    return keys
