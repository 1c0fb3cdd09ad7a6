"""A workspace with something of everything an export holds, and the reading of an export's ZIP."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

from django.conf import settings

from accounts.models import User
from exports.models import WorkspaceExport
from inbox import services as inbox
from inbox.models import Contact, Conversation, Message
from tenants.context import workspace_schema
from tenants.models import Workspace
from webhooks import services as webhooks


@dataclass
class Filled:
    conversation_ids: list[int]
    message_ids: list[int]
    contact_ids: list[int]
    secrets: list[str]  # the website's identity secret and the endpoint's signing secret
    words: list[str]  # text only this workspace has: an export of another must never hold it


def fill(workspace: Workspace, owner: User, tag: str, *, visitors: int = 2) -> Filled:
    """A website, `visitors` identified visitors each with a conversation (a visitor message, a reply, a
    note), a label, a canned response, auto-assignment on and a webhook endpoint; `tag` marks its text."""
    with workspace_schema(workspace.schema_name):
        website, identity_secret = inbox.website_create(
            workspace=workspace, name=f"Site {tag}", allowed_origins=f"https://{tag}.example"
        )
        label = inbox.label_create(name=f"Label-{tag}", color="#112233")
        inbox.canned_response_create(shortcut=f"hello-{tag}", body=f"Canned body {tag}")
        inbox.inbox_settings_update(auto_assign=True, auto_assign_limit=7)
        _, signing_secret = webhooks.endpoint_create(
            url=f"https://hooks.{tag}.example/in", event_types=["message.created"], description=f"Hook {tag}"
        )
        for n in range(visitors):
            contact, _ = inbox.contact_for_visitor(
                website=website, token=None, page_url=f"https://{tag}.example/"
            )
            inbox.contact_identify(
                website=website,
                contact=contact,
                email=f"visitor{n}@{tag}.example",
                name=f"Visitor {n} {tag}",
                user_id="",
                user_hash="",
                attributes={"tier": tag},
            )
            message, _ = inbox.message_from_visitor(
                contact_id=contact.pk, body=f"Question {n} from {tag} <b>"
            )
            conversation = message.conversation
            inbox.message_from_agent(conversation=conversation, author=owner, body=f"Answer {n} for {tag}")
            inbox.message_from_agent(
                conversation=conversation, author=owner, body=f"Note {n} {tag}", private=True
            )
            inbox.conversation_label_set(conversation=conversation, label=label, on=True, by=owner)
        return Filled(
            conversation_ids=list(Conversation.objects.order_by("id").values_list("id", flat=True)),
            message_ids=list(Message.objects.order_by("id").values_list("id", flat=True)),
            contact_ids=list(Contact.objects.order_by("id").values_list("id", flat=True)),
            secrets=[identity_secret, signing_secret],
            words=[f"Site {tag}", f"Question 0 from {tag}", f"visitor0@{tag}.example", f"Canned body {tag}",
                   f"Label-{tag}", f"hooks.{tag}.example"],
        )  # fmt: skip


def add_messages(workspace: Workspace, count: int) -> None:
    """`count` more visitor messages in the workspace's first conversation, written at once."""
    with workspace_schema(workspace.schema_name):
        conversation = Conversation.objects.order_by("id").first()
        Message.objects.bulk_create(
            Message(
                conversation=conversation,
                contact_id=conversation.contact_id,
                author_kind=Message.AuthorKind.VISITOR,
                body=f"Bulk message {n}",
            )
            for n in range(count)
        )


def export_files(export: WorkspaceExport) -> dict[str, bytes]:
    """Every file of the export's ZIP, by name, from PARLEY_EXPORT_DIR."""
    export.refresh_from_db()
    assert export.status == WorkspaceExport.Status.DONE, (export.status, export.error)
    with open(settings.PARLEY_EXPORT_DIR / export.file_name, "rb") as file:
        return zip_files(file.read())


def zip_files(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def json_lines(content: bytes) -> list[dict]:
    return [json.loads(line) for line in content.decode().splitlines()]
