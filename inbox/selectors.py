"""Reads for websites, visitors and messages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from accounts.models import User
from config import request_input
from config.keyset import cursor_decode, cursor_encode
from inbox.models import CannedResponse, Contact, Conversation, Label, Message, Website
from tenants import app_settings

SYNC_LIMIT = 500


def website_by_id(website_id: int) -> Website | None:
    return Website.objects.filter(pk=website_id).first()


def website_snippet(*, website: Website) -> str:
    """The line a customer pastes into their pages to show this website's chat widget."""
    src = app_settings.public_url("/widget.js")
    return f'<script src="{src}" data-site="{website.site_key}" async></script>'


def websites_of_workspace() -> QuerySet[Website]:
    return Website.objects.order_by("name", "id")


def contact_messages_after(*, contact: Contact, after_id: int = 0, limit: int = SYNC_LIMIT) -> list[Message]:
    """A visitor's messages, oldest first: the newest `limit` of all when `after_id` is 0 (a fresh
    page), else the first `limit` above `after_id` (a catch-up, which must have no holes)."""
    messages = Message.objects.filter(contact=contact, author_kind__in=Message.VISITOR_VISIBLE)
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


# --- The agent inbox

INBOX_PAGE_SIZE = 25
INBOX_TABS = ("mine", "unassigned", "all")


@dataclass(frozen=True)
class InboxFilters:
    """What an agent's conversation list shows; parsed from a query string by `inbox_filters_from`."""

    tab: str = "mine"
    status: str = Conversation.Status.OPEN
    website_id: int | None = None
    assignee_id: int | None = None
    label_id: int | None = None
    query: str = ""

    def as_query(self) -> dict[str, str]:
        values = {"tab": self.tab, "status": self.status, "website": self.website_id,
                  "assignee": self.assignee_id, "label": self.label_id, "q": self.query}  # fmt: skip
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    @property
    def querystring(self) -> str:
        return urlencode(self.as_query())


def inbox_filters_from(params) -> InboxFilters:
    """Filters from a request's GET (or a socket's view frame): an unknown tab or status falls back to
    the default; an id that is not one raises request_input.InvalidInput."""
    tab = params.get("tab") if params.get("tab") in INBOX_TABS else "mine"
    status = params.get("status") if params.get("status") in Conversation.Status.values else "open"
    return InboxFilters(
        tab=tab,
        status=status,
        website_id=request_input.object_id(params.get("website"), name="website"),
        assignee_id=request_input.object_id(params.get("assignee"), name="assignee"),
        label_id=request_input.object_id(params.get("label"), name="label"),
        query=str(params.get("q") or "").strip()[:200],
    )


def _filtered_conversations(*, agent_id: int, filters: InboxFilters) -> QuerySet[Conversation]:
    conversations = Conversation.objects.filter(status=filters.status)
    if filters.tab == "mine":
        conversations = conversations.filter(assignee_id=agent_id)
    elif filters.tab == "unassigned":
        conversations = conversations.filter(assignee_id__isnull=True)
    if filters.website_id:
        conversations = conversations.filter(website_id=filters.website_id)
    if filters.assignee_id:
        conversations = conversations.filter(assignee_id=filters.assignee_id)
    if filters.label_id:
        conversations = conversations.filter(labels=filters.label_id)
    if filters.query:
        query = SearchQuery(filters.query, config="simple", search_type="websearch")
        in_messages = Message.objects.annotate(document=SearchVector("body", config="simple")).filter(
            conversation_id=OuterRef("pk"), document=query
        )
        in_contact = Contact.objects.annotate(document=SearchVector("name", "email", config="simple")).filter(
            pk=OuterRef("contact_id"), document=query
        )
        conversations = conversations.filter(Exists(in_messages) | Exists(in_contact))
    return conversations


def conversation_matches(*, conversation: Conversation, agent_id: int, filters: InboxFilters) -> bool:
    """Whether a conversation belongs in a list shown with these filters (for live updates)."""
    if filters.query or filters.label_id:  # let the database decide
        return _filtered_conversations(agent_id=agent_id, filters=filters).filter(pk=conversation.pk).exists()
    return (
        conversation.status == filters.status
        and (filters.tab != "mine" or conversation.assignee_id == agent_id)
        and (filters.tab != "unassigned" or conversation.assignee_id is None)
        and (not filters.website_id or conversation.website_id == filters.website_id)
        and (not filters.assignee_id or conversation.assignee_id == filters.assignee_id)
    )


def _cursor_encode(conversation: Conversation) -> str:
    return cursor_encode(conversation.last_message_at, conversation.pk)


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[Conversation]
    next_cursor: str | None


def conversation_page(
    *, agent_id: int, filters: InboxFilters, cursor: str | None = None, limit: int = INBOX_PAGE_SIZE
) -> ConversationPage:
    """One page of the list, latest activity first, by keyset: a page boundary stays put while new
    conversations arrive at the top. Two queries whatever the size (conversations, assignees)."""
    conversations = _filtered_conversations(agent_id=agent_id, filters=filters)
    if after := cursor_decode(cursor):
        stamp, pk = after
        conversations = conversations.filter(
            Q(last_message_at__lt=stamp) | Q(last_message_at=stamp, id__lt=pk)
        )
    rows = list(
        conversations.select_related("contact", "website")
        .prefetch_related("labels")
        .order_by("-last_message_at", "-id")[: limit + 1]
    )
    page = rows[:limit]
    with_assignees(page)
    return ConversationPage(page, _cursor_encode(page[-1]) if len(rows) > limit else None)


def with_assignees(conversations: list[Conversation]) -> list[Conversation]:
    """Attach each conversation's assignee (users live in the public schema: one query)."""
    users = User.objects.in_bulk({c.assignee_id for c in conversations if c.assignee_id})
    for conversation in conversations:
        conversation.assignee_user = users.get(conversation.assignee_id)
    return conversations


def inbox_counts(*, agent_id: int) -> dict[str, int]:
    """Open conversations per tab, and unread messages in mine and unassigned (the page title)."""
    row = Conversation.objects.filter(status=Conversation.Status.OPEN).aggregate(
        mine=Count("id", filter=Q(assignee_id=agent_id)),
        unassigned=Count("id", filter=Q(assignee_id__isnull=True)),
        all=Count("id"),
        unread=Sum("unread_count", filter=Q(assignee_id=agent_id) | Q(assignee_id__isnull=True), default=0),
    )
    return row


def opening_tab(counts: dict[str, int], *, member_count: int) -> str:
    """The tab the inbox opens on when the URL names none: "all" for a team of one, else the first of
    mine, unassigned, all with an open conversation (a new owner's first one is unassigned), else mine."""
    if member_count <= 1:
        return "all"
    return next((tab for tab in INBOX_TABS if counts[tab]), "mine")


def conversation_for_agent(conversation_id: int) -> Conversation | None:
    """A conversation of this workspace (the caller's schema) with what its pane shows."""
    conversation = (
        Conversation.objects.select_related("contact", "website")
        .prefetch_related("labels")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is not None:
        with_assignees([conversation])
    return conversation


def thread_messages(
    *, conversation: Conversation, after_id: int = 0, limit: int = SYNC_LIMIT
) -> list[Message]:
    """A conversation's messages for agents (notes and events included), oldest first: the newest
    `limit` when `after_id` is 0, else those after it (a catch-up)."""
    messages = Message.objects.filter(conversation=conversation)
    if after_id:
        rows = list(messages.filter(id__gt=after_id).order_by("id")[:limit])
    else:
        rows = list(messages.order_by("-id")[:limit])[::-1]
    return with_authors(rows)


def with_authors(messages: list[Message]) -> list[Message]:
    """Attach each message's author (users live in the public schema: one query)."""
    authors = User.objects.in_bulk({m.author_id for m in messages if m.author_id})
    for message in messages:
        message.author_user = authors.get(message.author_id)
    return messages


def contact_history(*, conversation: Conversation, limit: int = 10) -> list[Conversation]:
    """The contact's other conversations, newest first."""
    return list(
        Conversation.objects.filter(contact_id=conversation.contact_id)
        .exclude(pk=conversation.pk)
        .order_by("-id")[:limit]
    )


def labels_of_workspace() -> QuerySet[Label]:
    return Label.objects.order_by("name")


def canned_responses() -> QuerySet[CannedResponse]:
    return CannedResponse.objects.order_by("shortcut")


def presence_rows(members, online: set[int], away: set[int]) -> list[dict]:
    """Each member with their state: online, away (online but not taking chats) or offline."""
    order = {"online": 0, "away": 1, "offline": 2}
    rows = [
        {
            "user": m.user,
            "state": "offline" if m.user_id not in online else "away" if m.user_id in away else "online",
        }
        for m in members
    ]
    return sorted(rows, key=lambda row: (order[row["state"]], row["user"].name.lower()))


def mention_handle(user: User) -> str:
    """How the composer's @ menu names someone: the display name's first word, else the email's
    local part (services.mentioned_member_ids also takes a few other spellings)."""
    return (
        user.display_name.split()[0] if user.display_name.strip() else user.email.split("@", 1)[0]
    ).lower()


def mention_handles(members) -> str:
    """JSON of [{handle, name}] for the composer's @ menu."""
    return json.dumps([{"handle": mention_handle(m.user), "name": m.user.name} for m in members])


@dataclass(frozen=True)
class FirstStep:
    title: str
    hint: str
    url_name: str
    done: bool


def first_steps(*, workspace) -> list[FirstStep]:
    """A new workspace's way to its first answered visitor, in order; each step ticks itself off
    from what has happened (the snippet counts as pasted once a visitor has connected through it)."""
    from tenants.models import Invitation, Membership

    has_team = (
        Membership.objects.filter(workspace=workspace).count() > 1
        or Invitation.objects.filter(workspace=workspace, revoked_at__isnull=True).exists()
    )
    return [
        FirstStep("Add your website", "Name it and say which addresses may show the chat.", "website_list",
                  Website.objects.exists()),
        FirstStep("Paste the snippet", "One line before </body>; this ticks itself off when the first "
                  "visitor connects.", "website_list", Contact.objects.exists()),
        FirstStep("Invite a teammate", "Agents answer chats; admins also manage settings.", "team", has_team),
        FirstStep("Answer a visitor", "Say hello from your site in another browser; reply from the inbox.",
                  "inbox", Message.objects.filter(author_kind=Message.AuthorKind.AGENT).exists()),
    ]  # fmt: skip
