"""Billing state, in the public schema: one account per workspace, and every Stripe event received."""

from __future__ import annotations

from django.db import models


class BillingAccount(models.Model):
    """A workspace's Stripe customer and the subscription state we last stored.

    `stripe_state_at` is the Stripe-side time of that state (the event's `created`, or the moment we
    fetched the subscription from Stripe): an update older than it is dropped, so events handled in
    any order converge on the newest state.
    """

    class Status(models.TextChoices):
        NONE = "none", "No subscription"
        INCOMPLETE = "incomplete", "Incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        UNPAID = "unpaid", "Unpaid"
        CANCELED = "canceled", "Canceled"
        PAUSED = "paused", "Paused"

    class Interval(models.TextChoices):
        NONE = "", "None"
        MONTH = "month", "Monthly"
        YEAR = "year", "Yearly"

    # Statuses in which the subscription no longer pays for anything.
    ENDED = frozenset({Status.CANCELED, Status.INCOMPLETE_EXPIRED})

    workspace = models.OneToOneField("tenants.Workspace", on_delete=models.CASCADE, related_name="billing")
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True, default="")
    plan = models.CharField(max_length=20, default="free")  # a key of billing.plans.PLANS
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NONE)
    interval = models.CharField(max_length=5, choices=Interval.choices, blank=True, default="")
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    past_due_since = models.DateTimeField(null=True, blank=True)  # Stripe's time of the failed payment
    paid_at = models.DateTimeField(null=True, blank=True)  # Stripe's time of the last paid invoice
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    # The month's conversations against the plan, as the periodic check last found them: owners are
    # emailed once at 80 % and once at 100 % in a month ("2026-12"), and the banner reads it from here.
    usage_month = models.CharField(max_length=7, blank=True, default="")
    usage_level = models.PositiveSmallIntegerField(default=0)  # 0, 80 or 100
    # Set by Parley's staff (the staff console): the plan whose limits apply whatever Stripe says, until
    # `plan_override_until` (None: until staff clear it), then Stripe's state again. Stripe is not told:
    # nothing is charged or refunded for it.
    plan_override = models.CharField(max_length=20, blank=True, default="")  # a key of PLANS, or ""
    plan_override_until = models.DateTimeField(null=True, blank=True)
    plan_override_reason = models.TextField(blank=True, default="")
    # A trial given by staff to a workspace with no subscription: `trial_plan`'s limits until
    # `trial_until`. A subscription's own trial is Stripe's (status trialing, to current_period_end).
    trial_plan = models.CharField(max_length=20, blank=True, default="")  # a paid plan's key, or ""
    trial_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.workspace_id}: {self.plan} ({self.status})"


class StripeEvent(models.Model):
    """A Stripe webhook event, stored once by its id before anything acts on it."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The event names a customer no workspace has: kept for a person to look at, not acted on.
    customer_unknown = models.BooleanField(default=False)
    error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["received_at"],
                name="stripe_event_unprocessed_idx",
                condition=models.Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.stripe_id} {self.type}"
