"""Writes for websites, visitors (contacts) and messages. Each is one transaction."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import uuid
import weakref
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from billing import limits
from inbox import realtime
from inbox.exceptions import (
    AssigneeNotMember,
    ConversationActionInvalid,
    IdentityRefused,
    InboxSettingInvalid,
    MessageInvalid,
    MessageTooLong,
)
from inbox.models import CannedResponse, Contact, Conversation, InboxSettings, Label, Message, Website
from inbox.origins import origins_parse
from inbox.selectors import mention_handle, message_payload
from tenants import secret_box
from tenants.context import schema_statement, workspace_rows, workspace_schema
from tenants.models import Membership, SiteKey, Workspace
from webhooks.services import event_record

MESSAGE_MAX_CHARS = 5000
RECENT_PAGES = 10
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
        limits.limit_check(limits.WEBSITES, workspace)
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


# --- Messages


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def message_body_clean(body: Any) -> str:
    if not isinstance(body, str):
        raise MessageInvalid("A message needs a text body.")
    body = body.strip()
    if not body:
        raise MessageInvalid("A message cannot be empty.")
    if "\x00" in body:  # PostgreSQL's text cannot hold it
        raise MessageInvalid("A message cannot contain a NUL character.")
    if _LONE_SURROGATE.search(body):  # JSON lets one through; UTF-8, and so PostgreSQL, cannot hold it
        raise MessageInvalid("A message cannot contain half of a UTF-16 surrogate pair.")
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


# The busiest write of the product: the function visitor_message_write of each workspace schema
# (inbox/sql/visitor_message_write.sql) locks the visitor, skips a client_id already stored, finds or
# opens the conversation (waking a snoozed one), stores the message, moves the visitor's and the
# conversation's markers and records the webhook events.
# Services that change a conversation lock its contact first too.
_VISITOR_WRITE = (
    "SELECT * FROM {schema}.visitor_message_write(%(contact_id)s, %(body)s, %(client_id)s, %(now)s)"
)


# Several visitors' messages in one statement: the function once per message, in the order given
# (one transaction: a visitor's second message sees its first). LEFT JOIN: a contact that is gone
# still answers, with no row of the function's.
_VISITOR_WRITE_MANY = """
SELECT w.* FROM unnest(
    %(contact_ids)s::bigint[], %(bodies)s::text[], %(client_ids)s::uuid[], %(nows)s::timestamptz[]
) WITH ORDINALITY AS m(contact_id, body, client_id, now, position)
LEFT JOIN LATERAL {schema}.visitor_message_write(m.contact_id, m.body, m.client_id, m.now) AS w ON true
ORDER BY m.position
"""


class _VisitorWrites:
    """One event loop's visitor messages for one workspace, written a batch at a time.

    While a batch is being written, the messages that arrive wait and go together in the next: one
    round trip and one commit (one WAL flush) for them all. An idle workspace writes each message at
    once; a busy one writes fewer, larger transactions instead of queueing every socket for a pool
    connection of its own, and takes one connection of the pool, leaving the rest to other
    workspaces. A batch locks its visitors in id order, as every batch does, so two batches (of two
    processes, say) cannot deadlock; one visitor's messages keep the order they came in."""

    BATCH_MAX = 200
    _of: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _VisitorWrites]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, schema_name: str) -> None:
        self.schema_name = schema_name
        self.waiting: list[tuple[dict, asyncio.Future]] = []
        self.writer: asyncio.Task | None = None

    @classmethod
    def of(cls, schema_name: str) -> _VisitorWrites:
        per_schema = cls._of.setdefault(asyncio.get_running_loop(), {})
        if schema_name not in per_schema:
            per_schema[schema_name] = cls(schema_name)
        return per_schema[schema_name]

    async def write(self, params: dict) -> tuple | None:
        """The function's row for this message (None if the contact is gone), once committed."""
        done = asyncio.get_running_loop().create_future()
        self.waiting.append((params, done))
        if self.writer is None:
            self.writer = asyncio.create_task(self._write_waiting())
        return await done  # cancelled (the socket closed): the message is written all the same

    async def _write_waiting(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[: self.BATCH_MAX], self.waiting[self.BATCH_MAX :]
                batch.sort(key=lambda item: item[0]["contact_id"])  # stable: a visitor's order holds
                try:
                    rows = await self._statement([params for params, _ in batch])
                except Exception as exc:
                    if len(batch) == 1:
                        _settle(batch[0][1], exception=exc)
                        continue
                    # One message's trouble must not fail the others: each alone, then.
                    for params, done in batch:
                        try:
                            _settle(done, result=(await self._statement([params]))[0])
                        except Exception as alone:
                            _settle(done, exception=alone)
                    continue
                for (_, done), row in zip(batch, rows, strict=True):
                    _settle(done, result=row)
        finally:
            self.writer = None

    async def _statement(self, batch: list[dict]) -> list[tuple]:
        return await workspace_rows(
            schema_statement(_VISITOR_WRITE_MANY, self.schema_name),
            {
                "contact_ids": [params["contact_id"] for params in batch],
                "bodies": [params["body"] for params in batch],
                "client_ids": [params["client_id"] for params in batch],
                "nows": [params["now"] for params in batch],
            },
        )


def _settle(done: asyncio.Future, *, result: tuple | None = None, exception: Exception | None = None) -> None:
    if done.done():  # its socket closed meanwhile
        return
    if exception is not None:
        done.set_exception(exception)
    else:
        # All NULL: the LEFT JOIN's row for a contact that is gone (the function answered nothing).
        gone = result is None or (result[1] is None and result[4] is None)
        done.set_result(None if gone else result)


@dataclass(frozen=True)
class VisitorMessageWritten:
    message: Message
    created: bool  # False: this client_id was stored before; nothing was written or pushed
    pushes: list[realtime.Push]  # the message's, after the thread's "reopened" event if it woke one
    new_conversation: bool = False

    @property
    def payload(self) -> dict:
        """The message as clients get it (with prev_id when it was just written)."""
        if self.created:
            return self.pushes[-1].event["message"]
        return message_payload(self.message, prev_id=None)


def _visitor_message_params(contact_id: int, body: Any, client_id: Any) -> dict:
    return {
        "contact_id": contact_id,
        "body": message_body_clean(body),
        "client_id": message_client_id_clean(client_id),
        "now": timezone.now(),
    }


def _visitor_message_written(schema_name: str, params: dict, row: tuple | None) -> VisitorMessageWritten:
    if row is None:
        raise Contact.DoesNotExist(f"No contact {params['contact_id']}.")
    prev_id, message_id, conversation_id, new_conversation, *duplicate, reopened_id, reopened_body = row
    fields = {"contact_id": params["contact_id"], "author_kind": Message.AuthorKind.VISITOR}
    if duplicate[0] is not None:
        duplicate_id, conversation_id, body, created_at = duplicate
        message = Message(
            id=duplicate_id,
            conversation_id=conversation_id,
            body=body,
            client_id=params["client_id"],
            created_at=created_at,
            **fields,
        )
        return VisitorMessageWritten(message, created=False, pushes=[])
    message = Message(
        id=message_id,
        conversation_id=conversation_id,
        body=params["body"],
        client_id=params["client_id"],
        created_at=params["now"],
        **fields,
    )
    pushes = [_message_push(schema_name, message, prev_id=prev_id, new_conversation=new_conversation)]
    if reopened_id is not None:
        reopened = Message(
            id=reopened_id,
            conversation_id=conversation_id,
            contact_id=params["contact_id"],
            author_kind=Message.AuthorKind.SYSTEM,
            body=reopened_body,
            created_at=params["now"],
        )
        pushes.insert(0, _message_push(schema_name, reopened, prev_id=None, new_conversation=False))
    return VisitorMessageWritten(message, created=True, pushes=pushes, new_conversation=new_conversation)


def message_from_visitor(*, contact_id: int, body: Any, client_id: Any = None) -> tuple[Message, bool]:
    """Store a visitor's message (once per client_id) and push it after commit; returns it and whether
    it is new. For requests and jobs; a consumer uses `message_from_visitor_on_loop`."""
    params = _visitor_message_params(contact_id, body, client_id)
    schema_name = realtime.current_schema()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(schema_statement(_VISITOR_WRITE, schema_name), params)
        written = _visitor_message_written(schema_name, params, cursor.fetchone())
        for push in written.pushes:
            realtime.publish_on_commit(push.groups, push.event)
    return written.message, written.created


async def message_from_visitor_on_loop(
    *, schema_name: str, contact_id: int, body: Any, client_id: Any = None, sender_channel: str | None = None
) -> VisitorMessageWritten:
    """`message_from_visitor` on the event loop, for the widget socket: the same statements, written
    together with whatever other messages of the workspace this process has waiting (one round trip
    and one commit for them all, see `_VisitorWrites`), no thread hop; pushed after commit to
    everyone but `sender_channel` (the sender gets the message in its ack)."""
    params = _visitor_message_params(contact_id, body, client_id)
    row = await _VisitorWrites.of(schema_name).write(params)
    written = _visitor_message_written(schema_name, params, row)
    exclude = [sender_channel] if sender_channel else []
    for push in written.pushes:
        await realtime.publish_async(push.groups, push.event, exclude=exclude)
    return written


def message_from_agent(
    *, conversation: Conversation, author: User, body: Any, client_id: Any = None, private: bool = False
) -> Message:
    """Store an agent's reply (pushed to the visitor and the inbox) or, `private`, a note only
    agents see."""
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
            author_kind=Message.AuthorKind.NOTE if private else Message.AuthorKind.AGENT,
            author=author,
            body=body,
            client_id=client_uuid,
        )
        event_record("message.created", "message", message.pk, private=private)
        if private:
            _push_message(message, prev_id=None, new_conversation=False)
            for user_id in mentioned_member_ids(body, exclude=author.pk):
                realtime.publish_on_commit(
                    [realtime.member_group(realtime.current_schema(), user_id)],
                    {
                        "type": "mention",
                        "conversation_id": conversation.pk,
                        "by": author.name,
                        "body": body[:140],
                    },
                )
            return message
        if conversation.first_agent_reply_at is None:
            conversation.first_agent_reply_at = message.created_at
        conversation.unread_count = 0  # whoever answers has read it
        conversation.last_message_preview = body[:140]
        _record_and_push(contact=contact, conversation=conversation, message=message)
    return message


MENTION = re.compile(r"(?<![\w@])@([\w.-]+)")


def mentioned_member_ids(body: str, *, exclude: int | None = None) -> set[int]:
    """Members named in a note: @ and their handle (selectors.mention_handle), their name without
    spaces, or their email's local part."""

    wanted = {token.lower().rstrip(".") for token in MENTION.findall(body)}
    if not wanted:
        return set()
    found = set()
    members = Membership.objects.filter(workspace__schema_name=connection.schema_name).select_related("user")
    for member in members:
        user = member.user
        names = {
            mention_handle(user),
            user.email.split("@", 1)[0].lower(),
            user.name.lower().replace(" ", ""),
        }
        if names & wanted and user.pk != exclude:
            found.add(user.pk)
    return found


def _record_and_push(*, contact: Contact, conversation: Conversation, message: Message) -> None:
    prev_id = contact.last_message_id
    contact.last_message_id = message.pk
    contact.save(update_fields=["last_message_id"])
    conversation.last_message_at = message.created_at
    conversation.save(
        update_fields=[
            "last_message_at",
            "first_agent_reply_at",
            "updated_at",
            "unread_count",
            "last_message_preview",
        ]
    )
    _push_message(message, prev_id=prev_id, new_conversation=False)


# --- Conversations (agents' actions). Each locks the contact first, as every write of its
# conversations does, and records what it did as a system event in the thread.


def _system_event(*, conversation: Conversation, by: User | None, text: str) -> Message:
    message = Message.objects.create(
        conversation=conversation,
        contact_id=conversation.contact_id,
        author_kind=Message.AuthorKind.SYSTEM,
        author=by,
        body=text,
    )
    _push_message(message, prev_id=None, new_conversation=False)
    return message


def _locked(conversation: Conversation) -> Conversation:
    Contact.objects.select_for_update().filter(pk=conversation.contact_id).first()
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _is_member(user_id: int) -> bool:
    return Membership.objects.filter(workspace__schema_name=connection.schema_name, user_id=user_id).exists()


def conversation_assign(
    *, conversation: Conversation, assignee: User | None, by: User | None
) -> Conversation:
    """Give the conversation to `assignee` (None: nobody), who must be a member of this workspace
    now; `by` None is Parley's round robin."""
    if assignee is not None and not _is_member(assignee.pk):
        raise AssigneeNotMember("That person is not a member of this workspace.")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.assignee_id == (assignee.pk if assignee else None):
            return conversation
        conversation.assignee_id = assignee.pk if assignee else None
        conversation.save(update_fields=["assignee", "updated_at"])
        if assignee is None:
            text = f"{by.name if by else 'Parley'} unassigned this conversation"
        elif by is None:
            text = f"Parley assigned this to {assignee.name} (round robin)"
        elif assignee.pk == by.pk:
            text = f"{by.name} took this conversation"
        else:
            text = f"{by.name} assigned this to {assignee.name}"
        _system_event(conversation=conversation, by=by, text=text)
        event_record("conversation.updated", "conversation", conversation.pk, changed=["assignee"])
    return conversation


def conversation_status_set(
    *, conversation: Conversation, status: str, by: User | None, snoozed_until=None
) -> Conversation:
    """Open, set pending, resolve, or snooze until a time (it reopens by itself then)."""
    if status not in Conversation.Status.values:
        raise ConversationActionInvalid(f"Unknown status “{str(status)[:20]}”.")
    if status == Conversation.Status.SNOOZED and (snoozed_until is None or snoozed_until <= timezone.now()):
        raise ConversationActionInvalid("Snooze until a time in the future.")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.status == status and conversation.snoozed_until == snoozed_until:
            return conversation
        conversation.status = status
        conversation.snoozed_until = snoozed_until if status == Conversation.Status.SNOOZED else None
        conversation.resolved_at = timezone.now() if status == Conversation.Status.RESOLVED else None
        conversation.save(update_fields=["status", "snoozed_until", "resolved_at", "updated_at"])
        who = by.name if by else "Parley"
        text = {
            Conversation.Status.OPEN: f"{who} reopened this conversation",
            Conversation.Status.PENDING: f"{who} set this conversation to pending",
            Conversation.Status.RESOLVED: f"{who} resolved this conversation",
            Conversation.Status.SNOOZED: f"{who} snoozed this conversation until "
            + (timezone.localtime(snoozed_until).strftime("%b %-d, %H:%M") if snoozed_until else ""),
        }[status]
        _system_event(conversation=conversation, by=by, text=text)
        event_record("conversation.updated", "conversation", conversation.pk, changed=["status"])
        if status == Conversation.Status.RESOLVED:
            event_record("conversation.resolved", "conversation", conversation.pk)
    return conversation


def conversation_priority_set(*, conversation: Conversation, priority: int, by: User) -> Conversation:
    if priority not in Conversation.Priority.values:
        raise ConversationActionInvalid("Unknown priority.")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.priority == priority:
            return conversation
        conversation.priority = priority
        conversation.save(update_fields=["priority", "updated_at"])
        label = Conversation.Priority(priority).label.lower()
        _system_event(conversation=conversation, by=by, text=f"{by.name} set the priority to {label}")
        event_record("conversation.updated", "conversation", conversation.pk, changed=["priority"])
    return conversation


def conversation_mark_read(*, conversation: Conversation) -> None:
    """An agent opened it: nothing in it is unread any more."""
    if conversation.unread_count:
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
        conversation.unread_count = 0
        realtime.publish_on_commit(
            [realtime.agents_group(realtime.current_schema())],
            {"type": "conversation.changed", "conversation_id": conversation.pk},
        )


def conversations_unassign_member(*, user_id: int, by: User) -> int:
    """Someone left the workspace: whatever they had open goes back to the unassigned queue."""
    unassigned = 0
    for conversation in Conversation.objects.filter(assignee_id=user_id).exclude(
        status=Conversation.Status.RESOLVED
    ):
        conversation_assign(conversation=conversation, assignee=None, by=by)
        unassigned += 1
    return unassigned


def member_removed(*, workspace: Workspace, user: User, by: User) -> None:
    """tenants.hooks.member_removed: what they had open goes back to the queue, and every inbox they
    have open on the workspace closes once the removal commits."""
    with workspace_schema(workspace.schema_name):
        conversations_unassign_member(user_id=user.pk, by=by)
    realtime.publish_on_commit(
        [realtime.member_group(workspace.schema_name, user.pk)], {"type": "membership.revoked"}
    )


def account_taken_back(*, user: User, workspaces: list[Workspace]) -> dict:
    """tenants.hooks.account_taken_back: every inbox the account has open, on any workspace, closes
    once the take-back commits."""
    realtime.publish_on_commit(
        [realtime.member_group(workspace.schema_name, user.pk) for workspace in workspaces],
        {"type": "session.ended"},
    )
    return {}


def conversations_wake_snoozed() -> int:
    """Reopen every snoozed conversation whose time has come (the worker runs it every minute)."""
    woken = 0
    for conversation in Conversation.objects.filter(
        status=Conversation.Status.SNOOZED, snoozed_until__lte=timezone.now()
    ):
        conversation_status_set(conversation=conversation, status=Conversation.Status.OPEN, by=None)
        woken += 1
    return woken


def _push_message(message: Message, *, prev_id: int | None, new_conversation: bool) -> None:
    push = _message_push(
        realtime.current_schema(), message, prev_id=prev_id, new_conversation=new_conversation
    )
    realtime.publish_on_commit(push.groups, push.event)


def _message_push(
    schema: str, message: Message, *, prev_id: int | None, new_conversation: bool
) -> realtime.Push:
    """To every open inbox of the workspace (an inbox showing one conversation picks its messages
    out of the agents group) and, unless it is for agents only, to the visitor's tabs."""
    event = {"type": "message.created", "message": message_payload(message, prev_id=prev_id)}
    if new_conversation:
        event["new_conversation"] = True
    groups = [realtime.agents_group(schema)]
    if message.author_kind in Message.VISITOR_VISIBLE:
        groups.insert(0, realtime.contact_group(schema, message.contact_id))
    return realtime.Push(groups, event)


# --- Labels and canned responses (workspace settings)

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def label_create(*, name: str, color: str) -> Label:
    """A new label; names are unique in a workspace (case-insensitively)."""
    name = name.strip()
    if not name or len(name) > 40:
        raise InboxSettingInvalid("A label needs a name of at most 40 characters.")
    if not HEX_COLOR.match(color or ""):
        raise InboxSettingInvalid("Pick a colour like #6366f1.")
    if Label.objects.filter(name__iexact=name).exists():
        raise InboxSettingInvalid(f"There is already a label “{name}”.")
    return Label.objects.create(name=name, color=color.lower())


def label_delete(*, label: Label) -> None:
    label.delete()


def conversation_label_set(*, conversation: Conversation, label: Label, on: bool, by: User) -> Conversation:
    """Add (`on`) or remove a label, as a system event in the thread."""
    with transaction.atomic():
        conversation = _locked(conversation)
        has = conversation.labels.filter(pk=label.pk).exists()
        if has == on:
            return conversation
        if on:
            conversation.labels.add(label)
        else:
            conversation.labels.remove(label)
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now())
        verb = "added the label" if on else "removed the label"
        _system_event(conversation=conversation, by=by, text=f"{by.name} {verb} {label.name}")
        event_record("conversation.updated", "conversation", conversation.pk, changed=["labels"])
    return conversation


def canned_response_create(*, shortcut: str, body: str) -> CannedResponse:
    shortcut = shortcut.strip().lstrip("/").lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", shortcut):
        raise InboxSettingInvalid("A shortcut is letters, digits, - and _, at most 40, like “refund-policy”.")
    body = message_body_clean(body)
    if CannedResponse.objects.filter(shortcut=shortcut).exists():
        raise InboxSettingInvalid(f"/{shortcut} exists already.")
    return CannedResponse.objects.create(shortcut=shortcut, body=body)


def canned_response_delete(*, canned_response: CannedResponse) -> None:
    canned_response.delete()


# --- Auto-assignment


def inbox_settings_update(*, auto_assign: bool, auto_assign_limit: int) -> InboxSettings:
    if not 1 <= auto_assign_limit <= 500:
        raise InboxSettingInvalid("The limit is between 1 and 500 open conversations.")
    current = InboxSettings.current()
    current.auto_assign, current.auto_assign_limit = auto_assign, auto_assign_limit
    current.save(update_fields=["auto_assign", "auto_assign_limit"])
    return current


def conversation_auto_assign(
    *, conversation_id: int, online_user_ids: set[int], away_user_ids: set[int]
) -> User | None:
    """Give a new conversation to the next agent in turn among those online, not away, and under
    the workspace's limit of open conversations; nobody if auto-assignment is off or no one fits."""

    with transaction.atomic():
        current = InboxSettings.objects.select_for_update().filter(pk=InboxSettings.current().pk).first()
        if not current.auto_assign:
            return None
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is None:
            return None
        conversation = _locked(conversation)
        if conversation.assignee_id is not None or conversation.status == Conversation.Status.RESOLVED:
            return None
        members = set(
            Membership.objects.filter(workspace__schema_name=connection.schema_name).values_list(
                "user_id", flat=True
            )
        )
        candidates = sorted((online_user_ids & members) - away_user_ids)
        loads = dict(
            Conversation.objects.filter(assignee_id__in=candidates, status=Conversation.Status.OPEN)
            .values_list("assignee_id")
            .annotate(n=Count("id"))
        )
        eligible = [user_id for user_id in candidates if loads.get(user_id, 0) < current.auto_assign_limit]
        if not eligible:
            return None
        after = [user_id for user_id in eligible if user_id > (current.last_auto_assignee_id or 0)]
        chosen = User.objects.get(pk=(after or eligible)[0])
        current.last_auto_assignee_id = chosen.pk
        current.save(update_fields=["last_auto_assignee_id"])
        conversation_assign(conversation=conversation, assignee=chosen, by=None)
    return chosen
