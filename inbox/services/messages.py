"""Messages: the visitor's (one SQL statement, batched per workspace on the event loop) and the
agent's, with their pushes and webhook events, and the thread's system events."""

from __future__ import annotations

import asyncio
import re
import uuid
import weakref
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from inbox import realtime
from inbox.exceptions import (
    MessageInvalid,
    MessageTooLong,
)
from inbox.models import Contact, Conversation, Message
from inbox.selectors import mention_handle, message_payload
from tenants.activity import activity_record, statement_counting
from tenants.context import schema_statement, workspace_rows
from tenants.models import Membership
from webhooks.services import event_record

MESSAGE_MAX_CHARS = 5000


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
#
# Several visitors' messages in one statement: the function once per message, in the order given
# (one transaction: a visitor's second message sees its first). LEFT JOIN: a contact that is gone
# still answers, with no row of the function's (all NULL). The same statement adds the messages
# written and the conversations they started to the workspace's activity counters (one upsert per
# hour of the batch: in practice one), after every message, so the counters' row lock comes last.
_VISITOR_WRITE_MANY = statement_counting(
    written="""
    SELECT m.position, m.now AS written_at, w.*
    FROM unnest(
        %(contact_ids)s::bigint[], %(bodies)s::text[], %(client_ids)s::uuid[], %(nows)s::timestamptz[]
    ) WITH ORDINALITY AS m(contact_id, body, client_id, now, position)
    LEFT JOIN LATERAL {schema}.visitor_message_write(m.contact_id, m.body, m.client_id, m.now) AS w ON true
    """,
    counts="""
    SELECT ws.id, date_trunc('hour', written.written_at, 'UTC') AS hour,
        count(*) FILTER (WHERE written.o_new_conversation), count(*), 0, 0, max(written.written_at)
    FROM written JOIN tenants_workspace ws ON ws.schema_name = %(schema_name)s
    WHERE written.o_message_id IS NOT NULL  -- not a client_id sent again, nor a contact that is gone
    GROUP BY ws.id, hour
    """,
    answer="""
    SELECT o_prev_id, o_message_id, o_conversation_id, o_new_conversation, o_duplicate_id,
        o_duplicate_conversation_id, o_duplicate_body, o_duplicate_created_at, o_reopened_id,
        o_reopened_body
    FROM written ORDER BY position
    """,
)


def _visitor_write_params(schema_name: str, batch: list[dict]) -> dict:
    return {
        "schema_name": schema_name,
        "contact_ids": [params["contact_id"] for params in batch],
        "bodies": [params["body"] for params in batch],
        "client_ids": [params["client_id"] for params in batch],
        "nows": [params["now"] for params in batch],
    }


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
            _visitor_write_params(self.schema_name, batch),
        )


def _settle(done: asyncio.Future, *, result: tuple | None = None, exception: Exception | None = None) -> None:
    if done.done():  # its socket closed meanwhile
        return
    if exception is not None:
        done.set_exception(exception)
    else:
        done.set_result(_row_or_none(result))


def _row_or_none(row: tuple | None) -> tuple | None:
    """The function's row; None for the LEFT JOIN's all-NULL row of a contact that is gone."""
    gone = row is None or (row[1] is None and row[4] is None)
    return None if gone else row


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
        cursor.execute(
            schema_statement(_VISITOR_WRITE_MANY, schema_name), _visitor_write_params(schema_name, [params])
        )
        written = _visitor_message_written(schema_name, params, _row_or_none(cursor.fetchone()))
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
        else:
            if conversation.first_agent_reply_at is None:
                conversation.first_agent_reply_at = message.created_at
            conversation.unread_count = 0  # whoever answers has read it
            conversation.last_message_preview = body[:140]
            _record_and_push(contact=contact, conversation=conversation, message=message)
        # A note counts too: a message written by a person (tenants.activity). Last: it locks the hour's row.
        activity_record(schema_name=realtime.current_schema(), at=message.created_at, messages=1)
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


def system_event(*, conversation: Conversation, by: User | None, text: str) -> Message:
    message = Message.objects.create(
        conversation=conversation,
        contact_id=conversation.contact_id,
        author_kind=Message.AuthorKind.SYSTEM,
        author=by,
        body=text,
    )
    _push_message(message, prev_id=None, new_conversation=False)
    return message


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
