"""Visitors (contacts): found or made from the widget's token, and identified."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone

from inbox.exceptions import (
    IdentityRefused,
)
from inbox.models import Contact, Website
from tenants import secret_box
from webhooks.services import event_record

RECENT_PAGES = 10
ATTRIBUTES_MAX = 50
ATTRIBUTE_VALUE_MAX = 500


def visitor_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def contact_for_visitor(
    *, website: Website, token: str | None, page_url: str = "", user_agent: str = ""
) -> tuple[Contact, str]:
    """The contact behind a visitor token, or a new anonymous one with a new token."""
    now = timezone.now()
    contact = None
    if token:
        contact = Contact.objects.filter(website=website, token_hash=visitor_token_hash(token)).first()
    if contact is None:
        token = secrets.token_urlsafe(32)
        with transaction.atomic():
            contact = Contact.objects.create(
                website=website,
                token_hash=visitor_token_hash(token),
                current_url=page_url[:2000],
                recent_pages=[page_url[:2000]] if page_url else [],
                user_agent=user_agent[:500],
                last_seen_at=now,
            )
            event_record("contact.created", "contact", contact.pk)
        return contact, token
    contact.last_seen_at = now
    update = ["last_seen_at"]
    if page_url and page_url != contact.current_url:
        contact.current_url = page_url[:2000]
        pages = [contact.current_url, *(p for p in contact.recent_pages if p != contact.current_url)]
        contact.recent_pages = pages[:RECENT_PAGES]
        update += ["current_url", "recent_pages"]
    if user_agent and user_agent != contact.user_agent:
        contact.user_agent = user_agent[:500]
        update.append("user_agent")
    contact.save(update_fields=update)
    return contact, token


def contact_identify(
    *,
    website: Website,
    contact: Contact,
    email: str = "",
    name: str = "",
    user_id: str = "",
    user_hash: str = "",
    attributes: dict | None = None,
) -> Contact:
    """Attach what the host page knows about its visitor. A user_id counts only with a valid user_hash
    (HMAC-SHA256 of user_id with the website's identity secret) where the website requires it."""
    user_id, user_hash = str(user_id or "").strip(), str(user_hash or "").strip()
    verified = False
    if user_hash or website.identity_verification_required:
        if not user_id or not user_hash:
            raise IdentityRefused("This website requires identify() with user_id and user_hash.")
        expected = hmac.new(
            secret_box.unseal(website.identity_secret_sealed).encode(), user_id.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, user_hash.lower()):
            raise IdentityRefused("user_hash does not match user_id for this website.")
        verified = True
    email = str(email or "").strip()
    if email:
        try:
            EmailValidator()(email)
        except ValidationError as exc:
            raise IdentityRefused(f"“{email[:100]}” is not an email address.") from exc
    before = {field: getattr(contact, field) for field in IDENTITY_FIELDS}
    contact.custom_attributes = {**contact.custom_attributes, **_clean_attributes(attributes or {})}
    if email:
        contact.email = email[:254]
    if name:
        contact.name = str(name).strip()[:120]
    if user_id:
        contact.external_id = user_id[:200]
        contact.identity_verified = verified
    changed = [field for field in IDENTITY_FIELDS if getattr(contact, field) != before[field]]
    with transaction.atomic():
        contact.save()
        if changed:
            event_record("contact.updated", "contact", contact.pk, changed=changed)
    return contact


IDENTITY_FIELDS = ("email", "name", "external_id", "identity_verified", "custom_attributes")


def _clean_attributes(attributes: dict) -> dict:
    if not isinstance(attributes, dict) or len(attributes) > ATTRIBUTES_MAX:
        raise IdentityRefused(f"Custom attributes must be an object of at most {ATTRIBUTES_MAX} keys.")
    cleaned = {}
    for key, value in attributes.items():
        if not isinstance(value, str | int | float | bool) and value is not None:
            raise IdentityRefused(f"Attribute “{str(key)[:50]}” must be a string, number, boolean or null.")
        cleaned[str(key)[:50]] = value[:ATTRIBUTE_VALUE_MAX] if isinstance(value, str) else value
    return cleaned
