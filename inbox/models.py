"""A workspace's websites and the conversations visitors have on them (tenant schema)."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models

# Users live in the public schema. A database-level foreign key from a tenant table would make
# Django look for these tables in the public schema when a user is deleted, so user references
# are plain ids with no constraint and no cascade (people are deactivated, not deleted).
_USER_REF = {
    "to": settings.AUTH_USER_MODEL,
    "on_delete": models.DO_NOTHING,
    "db_constraint": False,
    "related_name": "+",
}


_BROWSERS = [
    ("Edge", r"Edg/(\d+)"),
    ("Firefox", r"Firefox/(\d+)"),
    ("Chrome", r"(?:Headless)?Chrome/(\d+)"),
    ("Safari", r"Version/(\d+)[.\d]* .*Safari/"),
]
_SYSTEMS = [("Android", "Android"), ("iOS", "iPhone"), ("iPadOS", "iPad"), ("Windows", "Windows"),
            ("macOS", "Mac OS X"), ("Linux", "Linux")]  # fmt: skip


class Website(models.Model):
    """A site that embeds the chat widget, identified by its public site key."""

    class LauncherPosition(models.TextChoices):
        RIGHT = "right", "Bottom right"
        LEFT = "left", "Bottom left"

    name = models.CharField(max_length=80)
    site_key = models.CharField(max_length=64, unique=True)
    allowed_origins = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    accent_color = models.CharField(max_length=7, default="#4f46e5")
    greeting = models.CharField(max_length=200, default="Hi there! How can we help?")
    team_name = models.CharField(max_length=80, blank=True)
    launcher_position = models.CharField(
        max_length=8, choices=LauncherPosition.choices, default=LauncherPosition.RIGHT
    )
    # Seconds without an agent reply before the widget asks for an email; 0 never asks.
    ask_email_after_seconds = models.PositiveIntegerField(default=60)
    identity_secret_sealed = models.TextField(blank=True)
    identity_verification_required = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A visitor of a website: anonymous (a token in their browser) until identified."""

    website = models.ForeignKey(Website, on_delete=models.CASCADE, related_name="contacts")
    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=120, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    identity_verified = models.BooleanField(default=False)
    custom_attributes = models.JSONField(default=dict, blank=True)
    current_url = models.URLField(max_length=2000, blank=True)
    recent_pages = models.JSONField(default=list, db_default=[], blank=True)  # newest first, at most 10
    user_agent = models.CharField(max_length=500, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # The newest message to or from this contact: the lock on this row orders their messages.
    last_message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["website", "external_id"], name="contact_external_id_idx"),
            GinIndex(SearchVector("name", "email", config="simple"), name="contact_search_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"Visitor #{self.pk}"

    @property
    def browser(self) -> str:
        """“Chrome 156 on Linux” from the user agent: what an agent needs, not the whole string."""
        ua = self.user_agent
        name = next(
            (f"{label} {m.group(1)}" for label, pattern in _BROWSERS if (m := re.search(pattern, ua))), ""
        )
        system = next((label for label, needle in _SYSTEMS if needle in ua), "")
        return " on ".join(part for part in (name, system) if part) or ua[:80]


class InboxSettings(models.Model):
    """The workspace's inbox behaviour: one row (see `current`)."""

    auto_assign = models.BooleanField(
        default=False, help_text="New conversations go round-robin to agents with the inbox open."
    )
    auto_assign_limit = models.PositiveSmallIntegerField(
        default=10, help_text="An agent with this many open conversations gets no more."
    )
    last_auto_assignee_id = models.BigIntegerField(null=True, blank=True)  # where the round robin is

    def __str__(self) -> str:
        return "Inbox settings"

    @classmethod
    def current(cls) -> InboxSettings:
        return cls.objects.get_or_create(pk=1)[0]


class Label(models.Model):
    """A workspace-defined tag for conversations (“Billing”, “Bug”), with a colour."""

    name = models.CharField(max_length=40, unique=True)
    color = models.CharField(max_length=7, default="#6366f1")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CannedResponse(models.Model):
    """A saved reply, inserted in the composer by typing / and its shortcut."""

    shortcut = models.SlugField(max_length=40, unique=True)
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class Conversation(models.Model):
    """Columns added after visitor_message_write (inbox/sql/) was written get a db_default,
    so its INSERT stays valid."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    class Priority(models.IntegerChoices):
        NONE = 0, "No priority"
        LOW = 1, "Low"
        MEDIUM = 2, "Medium"
        HIGH = 3, "High"
        URGENT = 4, "Urgent"

    website = models.ForeignKey(Website, on_delete=models.CASCADE, related_name="conversations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(null=True, blank=True, **_USER_REF)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    first_agent_reply_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    priority = models.SmallIntegerField(choices=Priority.choices, default=Priority.NONE, db_default=0)
    # Visitor messages no agent has opened yet (reset when an agent opens the conversation).
    unread_count = models.IntegerField(default=0, db_default=0)
    last_message_preview = models.CharField(max_length=140, blank=True, default="", db_default="")
    labels = models.ManyToManyField(Label, blank=True, related_name="conversations")

    class Meta:
        indexes = [
            models.Index(fields=["contact", "-id"], name="conversation_contact_idx"),
            # The inbox list: newest activity first, keyset-paginated on (last_message_at, id).
            models.Index(fields=["-last_message_at", "-id"], name="conversation_activity_idx"),
            models.Index(fields=["status", "-last_message_at", "-id"], name="conversation_status_idx"),
            models.Index(fields=["assignee", "-last_message_at", "-id"], name="conversation_assignee_idx"),
        ]

    def __str__(self) -> str:
        return f"Conversation #{self.pk}"


class Message(models.Model):
    """One message. Ids only grow, and for one contact they commit in order (see Contact)."""

    class AuthorKind(models.TextChoices):
        VISITOR = "visitor", "Visitor"
        AGENT = "agent", "Agent"
        NOTE = "note", "Private note"  # agents only
        SYSTEM = "system", "System"  # what happened ("Ana assigned this to Ben"), agents only

    VISITOR_VISIBLE = (AuthorKind.VISITOR, AuthorKind.AGENT)

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(null=True, blank=True, **_USER_REF)
    body = models.TextField()
    # Chosen by the sending client, so a message resent after a dropped connection is stored once.
    client_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="message_unique_client_id_per_contact",
            )
        ]
        indexes = [
            models.Index(fields=["contact", "id"], name="message_contact_sync_idx"),
            models.Index(fields=["conversation", "id"], name="message_thread_idx"),
            # The inbox search (inbox.selectors): the same expression, or the index goes unused.
            GinIndex(SearchVector("body", config="simple"), name="message_body_search_idx"),
        ]

    def __str__(self) -> str:
        return f"Message #{self.pk}"
