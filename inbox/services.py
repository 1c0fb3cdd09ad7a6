"""Writes for websites, visitors (contacts) and messages. Each is one transaction."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from inbox import realtime
from inbox.exceptions import IdentityRefused, MessageInvalid, MessageTooLong
from inbox.models import Contact, Conversation, Message, Website
from inbox.origins import origins_parse
from inbox.selectors import message_payload
from tenants import secret_box
from tenants.models import SiteKey, Workspace

MESSAGE_MAX_CHARS = 5000
ATTRIBUTES_MAX = 50
ATTRIBUTE_VALUE_MAX = 500


def _new_site_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


def visitor_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- Websites


def website_create(
    *, workspace: Workspace, name: str, allowed_origins: str, **appearance: Any
) -> tuple[Website, str]:
    """Create a website with a fresh site key; returns it and its identity secret, shown only this once."""
    origins = origins_parse(allowed_origins)
    identity_secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        website = Website.objects.create(
            name=name.strip(),
            site_key=_new_site_key(),
            allowed_origins=origins,
            identity_secret_sealed=secret_box.seal(identity_secret),
            **appearance,
        )
        SiteKey.objects.create(key=website.site_key, workspace=workspace, website_id=website.pk)
    return website, identity_secret


def website_update(*, website: Website, allowed_origins: str | None = None, **fields: Any) -> Website:
    """Change a website's name, origins or appearance."""
    if allowed_origins is not None:
        website.allowed_origins = origins_parse(allowed_origins)
    for name, value in fields.items():
        setattr(website, name, value)
    website.save()
    return website


def website_site_key_rotate(*, website: Website) -> Website:
    """Give a website a new site key; the old one stops working at once (the snippet must change)."""
    with transaction.atomic():
        new_key = _new_site_key()
        SiteKey.objects.filter(key=website.site_key).update(key=new_key)
        website.site_key = new_key
        website.save(update_fields=["site_key"])
    return website


def website_identity_secret_rotate(*, website: Website) -> str:
    """Replace the identity-verification secret; returns the new one, shown only this once."""
    identity_secret = secrets.token_urlsafe(32)
    website.identity_secret_sealed = secret_box.seal(identity_secret)
    website.save(update_fields=["identity_secret_sealed"])
    return identity_secret


def website_delete(*, website: Website) -> None:
    with transaction.atomic():
        SiteKey.objects.filter(key=website.site_key).delete()
        website.delete()


# --- Visitors


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
        contact = Contact.objects.create(
            website=website,
            token_hash=visitor_token_hash(token),
            current_url=page_url[:2000],
            user_agent=user_agent[:500],
            last_seen_at=now,
        )
        return contact, token
    contact.last_seen_at = now
    update = ["last_seen_at"]
    if page_url and page_url != contact.current_url:
        contact.current_url = page_url[:2000]
        update.append("current_url")
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
    contact.custom_attributes = {**contact.custom_attributes, **_clean_attributes(attributes or {})}
    if email:
        contact.email = email[:254]
    if name:
        contact.name = str(name).strip()[:120]
    if user_id:
        contact.external_id = user_id[:200]
        contact.identity_verified = verified
    contact.save()
    return contact


def _clean_attributes(attributes: dict) -> dict:
    if not isinstance(attributes, dict) or len(attributes) > ATTRIBUTES_MAX:
        raise IdentityRefused(f"Custom attributes must be an object of at most {ATTRIBUTES_MAX} keys.")
    cleaned = {}
    for key, value in attributes.items():
        if not isinstance(value, str | int | float | bool) and value is not None:
            raise IdentityRefused(f"Attribute “{str(key)[:50]}” must be a string, number, boolean or null.")
        cleaned[str(key)[:50]] = value[:ATTRIBUTE_VALUE_MAX] if isinstance(value, str) else value
    return cleaned


# --- Messages


def message_body_clean(body: Any) -> str:
    if not isinstance(body, str):
        raise MessageInvalid("A message needs a text body.")
    body = body.strip()
    if not body:
        raise MessageInvalid("A message cannot be empty.")
    if len(body) > MESSAGE_MAX_CHARS:
        raise MessageTooLong(
            f"Messages are limited to {MESSAGE_MAX_CHARS:,} characters; this one has {len(body):,}."
        )
    return body


def message_client_id_clean(client_id: Any) -> uuid.UUID | None:
    if client_id in (None, ""):
        return None
    try:
        return uuid.UUID(str(client_id))
    except ValueError as exc:
        raise MessageInvalid("client_id must be a UUID.") from exc


# One round trip: lock the visitor (the lock orders their messages' ids by commit), and read their
# current conversation and any message already stored under this client_id. Services that change a
# conversation lock its contact first too, so what this reads cannot change before the commit.
_VISITOR_WRITE_STATE = """
    SELECT c.website_id, c.last_message_id, cv.id, dupe.id
    FROM inbox_contact c
    LEFT JOIN LATERAL (
        SELECT id, status FROM inbox_conversation
        WHERE contact_id = c.id AND status <> 'resolved' ORDER BY id DESC LIMIT 1
    ) cv ON TRUE
    LEFT JOIN inbox_message dupe ON dupe.contact_id = c.id AND dupe.client_id = %(client_id)s
    WHERE c.id = %(contact_id)s
    FOR UPDATE OF c
"""
_VISITOR_WRITE = """
    INSERT INTO inbox_message
        (conversation_id, contact_id, author_kind, author_id, body, client_id, created_at)
    VALUES (%(conversation_id)s, %(contact_id)s, 'visitor', NULL, %(body)s, %(client_id)s, %(now)s)
    RETURNING id
"""
_VISITOR_WRITE_FOLLOWUP = """
    UPDATE inbox_contact SET last_message_id = %(message_id)s, last_seen_at = %(now)s
    WHERE id = %(contact_id)s;
    UPDATE inbox_conversation SET last_message_at = %(now)s, updated_at = %(now)s,
        status = CASE WHEN status = 'snoozed' THEN 'open' ELSE status END  -- a visitor writing wakes it up
    WHERE id = %(conversation_id)s
"""


def message_from_visitor(*, contact_id: int, body: Any, client_id: Any = None) -> tuple[Message, bool]:
    """Store a visitor's message (once per client_id) and push it; returns it and whether it is new.

    The busiest write of the product, so it is three statements, not the ORM's seven (see the SQL)."""
    body = message_body_clean(body)
    client_uuid = message_client_id_clean(client_id)
    now = timezone.now()
    params = {"contact_id": contact_id, "client_id": client_uuid, "body": body, "now": now}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_VISITOR_WRITE_STATE, params)
        row = cursor.fetchone()
        if row is None:
            raise Contact.DoesNotExist(f"No contact {contact_id}.")
        website_id, prev_id, conversation_id, duplicate_id = row
        if duplicate_id is not None:
            return Message.objects.get(pk=duplicate_id), False
        new_conversation = conversation_id is None
        if new_conversation:  # the first message, or the first since the last one was resolved
            conversation_id = Conversation.objects.create(website_id=website_id, contact_id=contact_id).pk
        params["conversation_id"] = conversation_id
        cursor.execute(_VISITOR_WRITE, params)
        message_id = cursor.fetchone()[0]
        cursor.execute(_VISITOR_WRITE_FOLLOWUP, {**params, "message_id": message_id})
        message = Message(
            id=message_id,
            conversation_id=conversation_id,
            contact_id=contact_id,
            author_kind=Message.AuthorKind.VISITOR,
            body=body,
            client_id=client_uuid,
            created_at=now,
        )
        _push_message(message, prev_id=prev_id, new_conversation=new_conversation)
    return message, True


def message_from_agent(
    *, conversation: Conversation, author: User, body: Any, client_id: Any = None
) -> Message:
    """Store an agent's reply in a conversation and push it to the visitor and the inbox."""
    body = message_body_clean(body)
    client_uuid = message_client_id_clean(client_id)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=conversation.contact_id)
        if client_uuid is not None:
            existing = Message.objects.filter(contact=contact, client_id=client_uuid).first()
            if existing is not None:
                return existing
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        message = Message.objects.create(
            conversation=conversation,
            contact=contact,
            author_kind=Message.AuthorKind.AGENT,
            author=author,
            body=body,
            client_id=client_uuid,
        )
        if conversation.first_agent_reply_at is None:
            conversation.first_agent_reply_at = message.created_at
        _record_and_push(contact=contact, conversation=conversation, message=message)
    return message


def _record_and_push(*, contact: Contact, conversation: Conversation, message: Message) -> None:
    prev_id = contact.last_message_id
    contact.last_message_id = message.pk
    contact.save(update_fields=["last_message_id"])
    conversation.last_message_at = message.created_at
    conversation.save(update_fields=["last_message_at", "first_agent_reply_at", "updated_at"])
    _push_message(message, prev_id=prev_id, new_conversation=False)


def _push_message(message: Message, *, prev_id: int | None, new_conversation: bool) -> None:
    """After commit: to the visitor's tabs and to every open inbox of the workspace (an inbox showing
    one conversation picks its messages out of the agents group)."""
    schema = realtime.current_schema()
    event = {"type": "message.created", "message": message_payload(message, prev_id=prev_id)}
    if new_conversation:
        event["new_conversation"] = True
    realtime.publish_on_commit(
        [realtime.contact_group(schema, message.contact_id), realtime.agents_group(schema)], event
    )
