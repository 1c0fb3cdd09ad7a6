"""A workspace's webhook endpoints, the events recorded for them (the outbox) and each delivery's attempts.

The outbox is written inside the transaction of the change that caused it, by the SQL function
`webhook_event_record` of the workspace schema (webhooks/sql/), which also queues one procrastinate
job per delivery in that same transaction: a rolled-back change leaves nothing, a committed one
always has its jobs.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class EventType(models.TextChoices):
    CONVERSATION_CREATED = "conversation.created", "A conversation starts"
    CONVERSATION_UPDATED = (
        "conversation.updated",
        "A conversation's status, assignee, labels or priority change",
    )
    CONVERSATION_RESOLVED = "conversation.resolved", "A conversation is resolved"
    MESSAGE_CREATED = "message.created", "A visitor or an agent writes a message"
    CONTACT_CREATED = "contact.created", "A new visitor arrives"
    CONTACT_UPDATED = "contact.updated", "A visitor is identified (name, email, user id, attributes)"


# Sent only by "Send test event", to the one endpoint, whatever it subscribes to.
TEST_EVENT_TYPE = "webhook.test"


class Endpoint(models.Model):
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = ArrayField(models.CharField(max_length=40), default=list)
    include_private_notes = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    secret_sealed = models.TextField()
    # Secrets that rotations replaced, each still signing until its overlap ends:
    # [{"sealed": ..., "expires_at": ISO 8601}], oldest first (webhooks.services.endpoint_secret_rotate).
    retired_secrets = models.JSONField(default=list, blank=True)
    # Since when every attempt has failed (None: the last one succeeded).
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def retired_secrets_signing_until(self) -> list[datetime]:
        """When each replaced secret that still signs stops, soonest first."""
        now = timezone.now()
        ends = (datetime.fromisoformat(retired["expires_at"]) for retired in self.retired_secrets)
        return sorted(end for end in ends if end > now)


class Event(models.Model):
    """One webhook message: its envelope is fixed when the change commits, and re-sent byte for byte."""

    uid = models.UUIDField(unique=True, db_default=models.Func(function="gen_random_uuid"))
    type = models.CharField(max_length=40)
    payload = models.JSONField()  # {"type", "timestamp", "workspace", "data"}
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"{self.type} {self.uid}"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.uid.hex}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, db_default=Status.PENDING)
    attempts = models.IntegerField(db_default=0)
    # Failures since the last success or redelivery: the place in the retry schedule.
    failures = models.IntegerField(db_default=0)
    # Each (re)queueing bumps it and its job carries it: an older job for the same delivery does nothing.
    job_token = models.IntegerField(db_default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while the delivery waits for one of its endpoint's slots (webhook_delivery_claim found them
    # all taken): the next slot given back hands itself to the longest-parked delivery.
    parked_at = models.DateTimeField(null=True, blank=True)
    # Set when a job found the workspace suspended and sent nothing: the delivery has no job left, and
    # unsuspending queues exactly these (webhooks.services.deliveries_resume). Not `parked_at`: a
    # parked delivery keeps a backstop job and is handed the next free slot, which a held one must not
    # be while the suspension lasts. The resume clears it (webhook_deliveries_enqueue does not: it is
    # first applied, LANGUAGE sql, where this column does not exist yet).
    held_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint")
        ]
        indexes = [
            models.Index(fields=["endpoint", "-id"], name="delivery_log_idx"),
            models.Index(
                fields=["endpoint", "id"],
                name="delivery_parked_idx",
                condition=models.Q(parked_at__isnull=False),
            ),
            models.Index(fields=["id"], name="delivery_held_idx", condition=models.Q(held_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_set")
    started_at = models.DateTimeField()
    duration_ms = models.IntegerField()
    status_code = models.IntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)  # the first 1 KB
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} in {self.duration_ms} ms"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class EndpointLease(models.Model):
    """A delivery in flight to an endpoint holds one of its slots: at most PARLEY_WEBHOOK_CONCURRENCY
    at once, so one slow receiver cannot hold every worker. A lease expires by itself if its worker dies."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE)
    slot = models.SmallIntegerField()
    holder = models.UUIDField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "slot"], name="lease_slot_once")]

    def __str__(self) -> str:
        return f"slot {self.slot} of endpoint {self.endpoint_id}"
